// Copyright 2026 The Weightserver Authors.
//
// tests/testing/dropping_proxy.cc
#include "tests/testing/dropping_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace weightserver::testing {
namespace {

int ConnectTo(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(std::atoi(host_port.substr(colon + 1).c_str()));
  inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Abortive close: the peer sees a reset, not an orderly end.
void Reset(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  shutdown(fd, SHUT_RDWR);
}

}  // namespace

DroppingProxy::DroppingProxy(std::string upstream, uint64_t drop_every_bytes)
    : upstream_(std::move(upstream)), drop_every_bytes_(drop_every_bytes) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 ||
      bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd_, 64) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("DroppingProxy: listen");
    std::abort();
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

DroppingProxy::~DroppingProxy() {
  stopping_.store(true);
  shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (int fd : fds_) shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
}

std::string DroppingProxy::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

void DroppingProxy::AcceptLoop() {
  while (!stopping_.load()) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_.load()) return;
      continue;
    }
    connections_.fetch_add(1);
    std::lock_guard<std::mutex> l(mu_);
    threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void DroppingProxy::Serve(int client_fd) {
  int upstream_fd = ConnectTo(upstream_);
  if (upstream_fd < 0) {
    close(client_fd);
    return;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    fds_.push_back(client_fd);
    fds_.push_back(upstream_fd);
  }
  uint64_t downstream = 0;  // Bytes upstream -> client on this connection.
  std::vector<char> buffer(256 << 10);
  pollfd fds[2] = {{client_fd, POLLIN, 0}, {upstream_fd, POLLIN, 0}};
  bool dropped = false;
  while (!stopping_.load()) {
    if (poll(fds, 2, 100) < 0) break;
    bool closed = false;
    for (int i = 0; i < 2 && !closed; ++i) {
      if (fds[i].revents == 0) continue;
      const int from = fds[i].fd;
      const int to = fds[1 - i].fd;
      size_t want = buffer.size();
      if (i == 1) want = std::min<uint64_t>(want, drop_every_bytes_ - downstream);
      ssize_t n = read(from, buffer.data(), want);
      if (n <= 0) {
        closed = true;
        break;
      }
      for (ssize_t at = 0; at < n;) {
        ssize_t w = write(to, buffer.data() + at, n - at);
        if (w <= 0) {
          closed = true;
          break;
        }
        at += w;
      }
      if (i == 1) {
        downstream += n;
        if (downstream >= drop_every_bytes_) {
          dropped = true;
          closed = true;
        }
      }
    }
    if (closed) break;
  }
  if (dropped) drops_.fetch_add(1);
  {
    std::lock_guard<std::mutex> l(mu_);
    std::erase(fds_, client_fd);
    std::erase(fds_, upstream_fd);
    Reset(client_fd);
    Reset(upstream_fd);
    close(client_fd);
    close(upstream_fd);
  }
}

}  // namespace weightserver::testing
