// bench_fake_slack: a tiny stand-in for slack.com/api on loopback, so `mailguide serve`'s
// start-up auth.test answers at once (Bolt in the peer benchmark skips auth.test with a
// static bot id; ours calls it, and a real Slack answers it in ~100 ms over the internet).
// Every other Web API method and every response_url POST answers ok. Not a test.
//
//   bench_fake_slack --listen 127.0.0.1:3199
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 3199;
  if (argc == 3 && std::string(argv[1]) == "--listen") {
    const std::string hp = argv[2];
    const size_t colon = hp.rfind(':');
    host = hp.substr(0, colon);
    port = std::atoi(hp.c_str() + colon + 1);
  } else if (argc != 1) {
    std::cerr << "usage: bench_fake_slack [--listen HOST:PORT]\n";
    return 2;
  }
  httplib::Server svr;
  svr.set_tcp_nodelay(true);
  svr.set_keep_alive_max_count(100000);
  svr.Post("/api/auth.test", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"ok":true,"url":"https://example.slack.com/","team":"Example","user":"mailguide",)"
                    R"("team_id":"T0001","user_id":"U00BENCH","bot_id":"B00BENCH"})",
                    "application/json");
  });
  svr.Post(R"(/api/.*)", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"ok":true,"ts":"1700000000.000100"})", "application/json");
  });
  svr.Post(R"(/.*)", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (!svr.bind_to_port(host, port)) {
    std::cerr << "bench_fake_slack: cannot listen on " << host << ":" << port << "\n";
    return 1;
  }
  std::thread listener([&] { svr.listen_after_bind(); });
  int received = 0;
  sigwait(&signals, &received);
  while (!svr.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  svr.stop();
  listener.join();
  return 0;
}
