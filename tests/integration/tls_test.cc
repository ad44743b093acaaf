// Copyright 2026 The Weightserver Authors.
//
// tests/integration/tls_test.cc: TLS and mutual TLS between a real server
// and the client, weightctl and a raw stub, with certificates made by
// openssl at test time (tests/testing/test_pki.h).
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/testing/client_helpers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"
#include "tests/testing/test_pki.h"
#include "util/small_file.h"
#include "weightserver/client/client.h"
#include "weightserver/v1/weightserver.grpc.pb.h"

namespace weightserver {
namespace {

using format::DType;
using ::testing::HasSubstr;
using ::weightserver::testing::StatusIs;
using weightserver::testing::TensorBytes;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(weightserver::testing::MakeTestPki(pki_.path()));
    weightserver::testing::WriteModel(repo_.path() + "/m",
                                      {{"w", DType::kU8, {8 << 20}}});
  }

  std::string Pki(const std::string& name) const {
    return pki_.path() + "/" + name;
  }

  absl::Status StartServer(server::TlsOptions tls) {
    server::ServerOptions o;
    o.repo = repo_.path();
    o.listen = "127.0.0.1:0";
    o.tls = std::move(tls);
    auto s = server::Server::Start(o);
    if (!s.ok()) return s.status();
    server_ = *std::move(s);
    return absl::OkStatus();
  }

  static server::TlsOptions Tls(std::string cert, std::string key,
                                std::string client_ca = "") {
    server::TlsOptions tls;
    tls.cert_file = std::move(cert);
    tls.key_file = std::move(key);
    tls.client_ca_file = std::move(client_ca);
    return tls;
  }
  static server::TlsOptions ServerTls(const std::string& dir,
                                      const std::string& name) {
    return Tls(dir + "/" + name + ".pem", dir + "/" + name + ".key");
  }

  // The client's options for TLS against `ca` (a name in the PKI), with
  // client certificate `cert` when not empty.
  client::ClientOptions ClientTls(const std::string& ca,
                                  const std::string& cert = "") const {
    client::ClientOptions o;
    o.tls = true;
    o.tls_ca_file = Pki(ca + ".pem");
    if (!cert.empty()) {
      o.tls_cert_file = Pki(cert + ".pem");
      o.tls_key_file = Pki(cert + ".key");
    }
    o.max_attempts = 1;  // A refused handshake fails at once.
    o.unary_timeout = absl::Seconds(10);
    return o;
  }

  // Loads "m" and checks its bytes; returns the first error.
  absl::Status Load(const std::string& target, client::ClientOptions o) const {
    auto c = client::Client::Connect(target, std::move(o));
    if (!c.ok()) return c.status();
    absl::StatusOr<client::ModelInfo> toc = (*c)->GetModel("m");
    if (!toc.ok()) return toc.status();
    absl::StatusOr<client::TensorTable> t =
        weightserver::testing::LoadAll(**c, *toc);
    if (!t.ok()) return t.status();
    EXPECT_TRUE(weightserver::testing::HostBytes(*t->Find("w")) ==
                TensorBytes("w", 8 << 20));
    return absl::OkStatus();
  }
  absl::Status Load(client::ClientOptions o) const {
    return Load(server_->address(), std::move(o));
  }

  weightserver::testing::TempDir pki_;
  weightserver::testing::TempDir repo_;
  std::unique_ptr<server::Server> server_;
};

TEST_F(TlsTest, ALoadOverTlsVerifiesTheServer) {
  ASSERT_OK(StartServer(ServerTls(pki_.path(), "server")));
  EXPECT_OK(Load(ClientTls("ca")));
}

TEST_F(TlsTest, AServerCertificateOfAnotherCaIsRejected) {
  ASSERT_OK(StartServer(ServerTls(pki_.path(), "server")));
  EXPECT_THAT(Load(ClientTls("other_ca")),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("certificate verify failed")));
}

TEST_F(TlsTest, AnExpiredServerCertificateIsRejected) {
  ASSERT_OK(StartServer(ServerTls(pki_.path(), "expired")));
  EXPECT_THAT(Load(ClientTls("ca")),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("certificate verify failed")));
}

TEST_F(TlsTest, APlaintextClientGetsNothingFromATlsServer) {
  ASSERT_OK(StartServer(ServerTls(pki_.path(), "server")));
  client::ClientOptions plain;
  plain.max_attempts = 1;
  plain.unary_timeout = absl::Seconds(10);
  EXPECT_THAT(Load(plain), StatusIs(absl::StatusCode::kUnavailable,
                                    HasSubstr("Socket closed")));
}

// The certificate names localhost and 127.0.0.1: another name is refused
// unless the client says which name to expect.
TEST_F(TlsTest, TheServerNameIsCheckedAndCanBeOverridden) {
  ASSERT_OK(StartServer(ServerTls(pki_.path(), "server")));
  EXPECT_OK(Load(absl::StrCat("localhost:", server_->port()), ClientTls("ca")));
  client::ClientOptions wrong = ClientTls("ca");
  wrong.tls_server_name = "weights.example.com";
  EXPECT_THAT(Load(wrong), StatusIs(absl::StatusCode::kUnavailable,
                                    HasSubstr("is not in peer certificate")));
  client::ClientOptions right = ClientTls("ca");
  right.tls_server_name = "localhost";
  EXPECT_OK(Load(right));
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificateOfItsCa) {
  server::TlsOptions tls = ServerTls(pki_.path(), "server");
  tls.client_ca_file = Pki("ca.pem");
  ASSERT_OK(StartServer(tls));
  EXPECT_OK(Load(ClientTls("ca", "client")));
  // The server ends the handshake: the client sees its socket closed.
  EXPECT_THAT(Load(ClientTls("ca")), StatusIs(absl::StatusCode::kUnavailable))
      << "no client certificate";
  EXPECT_THAT(Load(ClientTls("ca", "client_other")),
              StatusIs(absl::StatusCode::kUnavailable))
      << "a client certificate of another CA";
}

// Kubernetes rotates a Secret by pointing a symlink at a new directory. New
// connections get the new certificate within the reload interval; a stream
// begun before the rotation finishes on its connection.
TEST_F(TlsTest, ARotatedCertificateIsServedWithoutDroppingStreams) {
  namespace fs = std::filesystem;
  const std::string secret = pki_.path() + "/secret";
  for (const char* version : {"v1", "v2"}) fs::create_directories(secret + "/" + version);
  for (const char* ext : {".pem", ".key"}) {
    fs::copy_file(Pki(std::string("server") + ext), secret + "/v1/tls" + ext);
    fs::copy_file(Pki(std::string("server_other") + ext), secret + "/v2/tls" + ext);
  }
  fs::create_directory_symlink("v1", secret + "/current");
  server::TlsOptions tls = ServerTls(secret + "/current", "tls");
  tls.reload_interval = absl::Seconds(1);
  ASSERT_OK(StartServer(tls));

  // A stream that reads slowly, over the old certificate's connection.
  absl::StatusOr<std::string> ca = ReadSmallFile(Pki("ca.pem"), 1 << 20);
  ASSERT_OK(ca.status());
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = *ca;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto stub = v1::WeightService::NewStub(grpc::CreateCustomChannel(
      server_->address(), grpc::SslCredentials(ssl), args));
  grpc::ClientContext ctx;
  v1::FetchRequest r;
  r.set_model("m");
  r.add_tensors()->set_name("w");
  r.set_chunk_size_hint(64 << 10);
  auto reader = stub->Fetch(&ctx, r);
  v1::Chunk c;
  ASSERT_TRUE(reader->Read(&c));
  uint64_t received = c.data().size();

  fs::create_directory_symlink("v2", secret + "/next");
  fs::rename(secret + "/next", secret + "/current");  // Atomic, as kubelet does.
  bool rotated = false;
  for (int i = 0; i < 100 && !rotated; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    rotated = Load(ClientTls("other_ca")).ok();
  }
  EXPECT_TRUE(rotated) << "the new certificate was not served within 10 s";
  EXPECT_THAT(Load(ClientTls("ca")), StatusIs(absl::StatusCode::kUnavailable))
      << "the old certificate is still served to new connections";

  while (reader->Read(&c)) received += c.data().size();
  const grpc::Status st = reader->Finish();
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(received, 8u << 20);
}

TEST_F(TlsTest, BadServerFilesAreRefusedAtStartWithTheirName) {
  server::TlsOptions mismatched = ServerTls(pki_.path(), "server");
  mismatched.key_file = Pki("client.key");
  EXPECT_THAT(StartServer(mismatched),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("client.key: not the private key of")));
  EXPECT_THAT(StartServer(Tls(Pki("nope.pem"), Pki("server.key"))),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope.pem")));
  EXPECT_THAT(StartServer(Tls(Pki("server.key"), Pki("server.key"))),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("server.key: no PEM certificate")));
  EXPECT_THAT(StartServer(Tls(Pki("server.pem"), "")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("both --tls_cert and --tls_key")));
  EXPECT_THAT(StartServer(Tls("", "", Pki("ca.pem"))),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tls_client_ca needs")));
}

TEST_F(TlsTest, BadClientOptionsAreRefusedByConnect) {
  client::ClientOptions no_tls;
  no_tls.tls_ca_file = Pki("ca.pem");
  EXPECT_THAT(client::Client::Connect("127.0.0.1:1", no_tls).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("without TLS")));
  client::ClientOptions half = ClientTls("ca");
  half.tls_cert_file = Pki("client.pem");
  EXPECT_THAT(client::Client::Connect("127.0.0.1:1", half).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("both its certificate and its key")));
  client::ClientOptions missing = ClientTls("ca");
  missing.tls_ca_file = Pki("nope.pem");
  EXPECT_THAT(client::Client::Connect("127.0.0.1:1", missing).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope.pem")));
}

// weightctl takes the same options as flags, health included.
TEST_F(TlsTest, WeightctlLoadsAndChecksHealthOverMutualTls) {
  server::TlsOptions tls = ServerTls(pki_.path(), "server");
  tls.client_ca_file = Pki("ca.pem");
  ASSERT_OK(StartServer(tls));
  auto run = [&](std::vector<std::string> args, std::string* out) {
    std::vector<std::string> all = {"--server", server_->address(),
                                    "--tls-ca", Pki("ca.pem"),
                                    "--tls-cert", Pki("client.pem"),
                                    "--tls-key", Pki("client.key")};
    all.insert(all.end(), args.begin(), args.end());
    std::ostringstream o, e;
    const int rc = cli::RunWeightctl(all, cli::CliEnvironment{}, o, e);
    *out = o.str() + e.str();
    return rc;
  };
  std::string out;
  EXPECT_EQ(run({"load", "m"}, &out), 0) << out;
  EXPECT_EQ(run({"health"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("SERVING"));
  // Without the client certificate: refused.
  std::ostringstream o, e;
  EXPECT_NE(cli::RunWeightctl({"--server", server_->address(), "--tls-ca",
                               Pki("ca.pem"), "ls"},
                              cli::CliEnvironment{}, o, e),
            0);
}

}  // namespace
}  // namespace weightserver
