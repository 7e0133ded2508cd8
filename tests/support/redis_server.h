// A real redis-server for tests: started on a free loopback port in a scratch directory with
// persistence off, stopped and reaped by the destructor. Stop() and Start() restart it on the
// same port, as an operator's restart would. Talks to it with a minimal RESP client of its own,
// so tests need no Redis library.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace bot::testing {

class RedisServer {
 public:
  // Starts redis-server (throws std::runtime_error with a one-line reason when it cannot,
  // e.g. "redis-server is not installed: run deploy/install-deps.sh").
  RedisServer();
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // One server for the whole test binary, started on first use.
  static RedisServer& Shared();

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  bool running() const { return pid_ > 0; }

  // Kills the server (SIGKILL, like a crash: it has no persistence, so its data is gone) and
  // reaps it. No-op when stopped.
  void Stop();
  // Starts it again on the same port and waits until it answers. Throws when it cannot.
  void Start();
  // Freezes (SIGSTOP) and thaws (SIGCONT) the server: it keeps its connections but answers
  // nothing, like a Redis stuck in a long fsync or a network black hole.
  void Pause();
  void Resume();

  // Runs one command on a fresh connection, after SELECT `db`, and returns the reply in RESP's
  // own spelling: "+OK", ":42", "$value" for a bulk string, "$nil", "-ERR ..." and, for an array,
  // "*" followed by its elements' spellings joined by '\n'. "" when the server cannot be reached.
  std::string Command(const std::vector<std::string>& args, int db = 0) const;
  // Empties every database.
  void FlushAll() const;

 private:
  bool Launch(std::string& error);  // one attempt on port_
  bool WaitUntilReady(std::string& error);

  std::string host_ = "127.0.0.1";
  int port_ = 0;
  pid_t pid_ = -1;
  std::string dir_;
  std::string binary_;
};

}  // namespace bot::testing
