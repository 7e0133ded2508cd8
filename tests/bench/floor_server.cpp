// bench_floor: the floor of our HTTP layer. A bare cpp-httplib server that verifies the Slack
// signature (the same OpenSSL HMAC code mailguide uses) and answers a fixed ~640-byte Block
// Kit body, tuned exactly like bot/server/server.cpp (TCP_NODELAY, worker pool, keep-alive
// count and timeouts). Whatever mailguide costs above this is parsing, the engine and
// rendering. Not a test; built only with -DBOT_BUILD_BENCH=ON.
//
//   bench_floor --listen 127.0.0.1:3100 [--tls CERT KEY] [--threads 8]
// The pool and the limits come from bot/server/limits.h (NewElasticThreadPool, the
// ConnectionLimits defaults, TCP_DEFER_ACCEPT), so a change to ours changes the floor too.
//   env: SLACK_SIGNING_SECRET (required)
#include <httplib.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "adapters/slack/slack_signature.h"
#include "bot/server/limits.h"

namespace {

// The reply Bolt's app.js gives for `/smtp-code 550 5.7.26` (header, section, context), in
// the same shape and size: what a server that does no work beyond the signature would send.
const std::string kBody =
    R"J({"response_type":"ephemeral","text":"SMTP 550 5.7.26: *550*: Requested action not taken: mailbox unavailable (not found, no access, or rejected by policy).",)J"
    R"J("blocks":[{"type":"header","text":{"type":"plain_text","text":"SMTP 550 5.7.26"}},)J"
    R"J({"type":"section","text":{"type":"mrkdwn","text":"*550*: Requested action not taken: mailbox unavailable (not found, no access, or rejected by policy).\n)J"
    R"J(*5.7.26*: Message rejected: the sender failed authentication (SPF/DKIM/DMARC alignment).\n*Class:* Permanent failure (5xx)"}},)J"
    R"J({"type":"context","elements":[{"type":"mrkdwn","text":"Requested by <@U2147483697> · codes per RFC 5321 / RFC 3463"}]}]})J";

int Usage() {
  std::cerr << "usage: bench_floor --listen HOST:PORT [--tls CERT KEY] [--threads N]\n"
               "env: SLACK_SIGNING_SECRET\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", cert, key;
  int port = 3100, threads = 8;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--listen" && i + 1 < argc) {
      const std::string hp = argv[++i];
      const size_t colon = hp.rfind(':');
      if (colon == std::string::npos) return Usage();
      host = hp.substr(0, colon);
      port = std::atoi(hp.c_str() + colon + 1);
    } else if (a == "--tls" && i + 2 < argc) {
      cert = argv[++i];
      key = argv[++i];
    } else if (a == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else {
      return Usage();
    }
  }
  const char* secret_env = std::getenv("SLACK_SIGNING_SECRET");
  if (!secret_env || !*secret_env) return Usage();
  const std::string secret = secret_env;

  std::unique_ptr<httplib::Server> svr;
  if (cert.empty()) {
    svr = std::make_unique<httplib::Server>();
  } else {
    // The same context settings as bot/server/server.cpp.
    auto ssl = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
      SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
      SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
      return SSL_CTX_use_certificate_chain_file(&ctx, cert.c_str()) == 1 &&
             SSL_CTX_use_PrivateKey_file(&ctx, key.c_str(), SSL_FILETYPE_PEM) == 1 &&
             SSL_CTX_check_private_key(&ctx) == 1;
    });
    if (!ssl->is_valid()) {
      std::cerr << "bench_floor: cannot set up TLS with " << cert << " / " << key << "\n";
      return 1;
    }
    svr = std::move(ssl);
  }
  // Tuning as in bot/server/server.cpp (Server::Start): the same elastic pool (`threads` warm,
  // growing to max_connections), TCP_DEFER_ACCEPT, TCP_NODELAY, timeouts and keep-alive count.
  const bot::ConnectionLimits lim;
  const size_t warm = static_cast<size_t>(std::max(1, threads));
  const size_t most = std::max(warm, static_cast<size_t>(std::max(1, lim.max_connections)));
  svr->new_task_queue = [warm, most] { return bot::NewElasticThreadPool(warm, most); };
  int listen_fd = -1;
  svr->set_socket_options([defer = lim.defer_accept_seconds, &listen_fd](int fd) {
    bot::ApplyListenSocketOptions(fd, defer);
    listen_fd = fd;
  });
  svr->set_tcp_nodelay(true);
  svr->set_payload_max_length(1 << 20);
  svr->set_read_timeout(lim.read_timeout);
  svr->set_write_timeout(lim.write_timeout_seconds, 0);
  svr->set_keep_alive_timeout(lim.keep_alive_seconds);
  svr->set_keep_alive_max_count(lim.keep_alive_max_requests);

  auto handler = [&secret](const httplib::Request& req, httplib::Response& res) {
    const bot::Status s = bot::slack::VerifySlackSignature(secret, req.get_header_value("X-Slack-Request-Timestamp"),
                                                           req.get_header_value("X-Slack-Signature"), req.body,
                                                           static_cast<int64_t>(std::time(nullptr)));
    if (!s.ok()) {
      res.status = 401;
      return;
    }
    res.set_content(kBody, "application/json");
  };
  for (const char* path : {"/slack/events", "/slack/commands"}) svr->Post(path, handler);

  // SIGTERM/SIGINT stop the server gracefully (as `mailguide serve` does).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (!svr->bind_to_port(host, port)) {
    std::cerr << "bench_floor: cannot listen on " << host << ":" << port << "\n";
    return 1;
  }
  if (listen_fd >= 0) ::listen(listen_fd, SOMAXCONN);  // as server.cpp: httplib's backlog is 5
  std::thread listener([&] { svr->listen_after_bind(); });
  std::cerr << "bench_floor: listening on " << (cert.empty() ? "http" : "https") << "://" << host << ":" << port
            << " with " << threads << " threads\n";
  int received = 0;
  sigwait(&signals, &received);
  while (!svr->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  svr->stop();
  listener.join();
  return 0;
}
