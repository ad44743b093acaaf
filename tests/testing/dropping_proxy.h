// Copyright 2026 The Weightserver Authors.
//
// tests/testing/dropping_proxy.h: a TCP proxy that breaks its connections.
//
// DroppingProxy listens on 127.0.0.1:0 and forwards each connection it
// accepts to `upstream` (HOST:PORT). Once a connection has carried
// `drop_every_bytes` from the upstream to the client, the proxy closes both
// sides (a reset, as a failing link or a restarted load balancer would), so
// a client sees its streams break every that many bytes and must reconnect.
//
// Example:
//   DroppingProxy proxy("127.0.0.1:50051", /*drop_every_bytes=*/30 << 20);
//   auto client = Client::Connect(proxy.address());
//
// Thread-safety: a thread per direction of each connection; the accessors
// may be called from any thread.
#ifndef WEIGHTSERVER_TESTS_TESTING_DROPPING_PROXY_H_
#define WEIGHTSERVER_TESTS_TESTING_DROPPING_PROXY_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace weightserver::testing {

class DroppingProxy {
 public:
  // Aborts when it cannot listen (a test cannot run without it).
  DroppingProxy(std::string upstream, uint64_t drop_every_bytes);
  DroppingProxy(const DroppingProxy&) = delete;
  DroppingProxy& operator=(const DroppingProxy&) = delete;
  // Closes every connection and joins the threads.
  ~DroppingProxy();

  // 127.0.0.1:PORT.
  std::string address() const;
  // Connections accepted, and those the proxy broke.
  int connections() const { return connections_.load(); }
  int drops() const { return drops_.load(); }

 private:
  void AcceptLoop();
  void Serve(int client_fd);

  const std::string upstream_;
  const uint64_t drop_every_bytes_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> drops_{0};
  std::mutex mu_;
  std::vector<std::thread> threads_;  // Guarded by mu_.
  std::vector<int> fds_;              // Open sockets; guarded by mu_.
  std::thread acceptor_;
};

}  // namespace weightserver::testing

#endif  // WEIGHTSERVER_TESTS_TESTING_DROPPING_PROXY_H_
