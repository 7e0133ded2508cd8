#include "support/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace bot::testing {

namespace {

std::string FindRedisServer() {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/bin:/usr/sbin:/usr/local/bin";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/redis-server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// A port nobody listens on right now: bind to port 0, read the port, close. Someone may take
// it before redis-server binds it; the caller retries with another then.
int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("cannot create a socket to find a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a loopback socket to find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string Tail(const std::string& path, size_t max_chars = 400) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  if (text.size() > max_chars) text = "..." + text.substr(text.size() - max_chars);
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

// A blocking RESP connection with 2-second timeouts, enough for tests.
class RespConnection {
 public:
  explicit RespConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    timeval tv{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RespConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RespConnection(const RespConnection&) = delete;
  RespConnection& operator=(const RespConnection&) = delete;

  bool ok() const { return fd_ >= 0; }

  bool Send(const std::vector<std::string>& args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (const std::string& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    size_t sent = 0;
    while (sent < out.size()) {
      ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // The reply spelled as RedisServer::Command documents; "" on a broken connection.
  std::string Read() {
    std::string line;
    if (!ReadLine(line) || line.empty()) return "";
    const char type = line[0];
    if (type == '+' || type == '-' || type == ':') return line;
    if (type == '$') {
      const long n = std::stol(line.substr(1));
      if (n < 0) return "$nil";
      std::string data;
      if (!ReadBytes(static_cast<size_t>(n) + 2, data)) return "";
      return "$" + data.substr(0, static_cast<size_t>(n));
    }
    if (type == '*') {
      const long n = std::stol(line.substr(1));
      if (n < 0) return "*nil";
      std::string out = "*";
      for (long i = 0; i < n; ++i) {
        std::string element = Read();
        if (element.empty()) return "";
        out += "\n" + element;
      }
      return out;
    }
    return "";
  }

 private:
  bool Fill() {
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  bool ReadLine(std::string& line) {
    size_t end;
    while ((end = buffer_.find("\r\n")) == std::string::npos) {
      if (!Fill()) return false;
    }
    line = buffer_.substr(0, end);
    buffer_.erase(0, end + 2);
    return true;
  }
  bool ReadBytes(size_t n, std::string& out) {
    while (buffer_.size() < n) {
      if (!Fill()) return false;
    }
    out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace

RedisServer::RedisServer() {
  binary_ = FindRedisServer();
  if (binary_.empty()) {
    throw std::runtime_error("redis-server is not installed: run deploy/install-deps.sh");
  }
  std::string pattern = (std::filesystem::temp_directory_path() / "mailguide-redis-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a scratch dir for redis-server");
  dir_ = pattern;

  std::string error;
  for (int attempt = 0; attempt < 10; ++attempt) {
    port_ = FreeLoopbackPort();
    if (Launch(error) && WaitUntilReady(error)) return;
    // Most likely someone took the port between our check and redis-server's bind: next one.
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  throw std::runtime_error("cannot start redis-server: " + error);
}

RedisServer::~RedisServer() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

RedisServer& RedisServer::Shared() {
  static RedisServer server;
  return server;
}

bool RedisServer::Launch(std::string& error) {
  const std::string port = std::to_string(port_);
  const std::string log = dir_ + "/redis.log";
  std::vector<std::string> args = {binary_,       "--port",     port,  "--bind",     host_, "--save", "",
                                   "--appendonly", "no",        "--dir", dir_,       "--logfile", log,
                                   "--daemonize", "no"};
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) {
    error = std::string("fork failed: ") + std::strerror(errno);
    return false;
  }
  if (pid == 0) {
    // Dies with the test binary, even when that one crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  return true;
}

bool RedisServer::WaitUntilReady(std::string& error) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  // A server answering on the port is ours only if it reports our child's pid: another test
  // run's redis-server may hold the port, and must never be flushed by us.
  const std::string ours = "process_id:" + std::to_string(pid_) + "\r\n";
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error = "redis-server on port " + std::to_string(port_) + " exited before answering: " +
              Tail(dir_ + "/redis.log");
      return false;
    }
    const std::string info = Command({"INFO", "server"});
    if (info.find(ours) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  error = "redis-server on port " + std::to_string(port_) + " did not answer within 10 s: " +
          Tail(dir_ + "/redis.log");
  Stop();
  return false;
}

void RedisServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

void RedisServer::Start() {
  if (running()) return;
  std::string error;
  if (!Launch(error) || !WaitUntilReady(error)) throw std::runtime_error("cannot restart redis-server: " + error);
}

void RedisServer::Pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void RedisServer::Resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

std::string RedisServer::Command(const std::vector<std::string>& args, int db) const {
  RespConnection connection(port_);
  if (!connection.ok()) return "";
  if (db != 0) {
    if (!connection.Send({"SELECT", std::to_string(db)}) || connection.Read() != "+OK") return "";
  }
  if (!connection.Send(args)) return "";
  return connection.Read();
}

void RedisServer::FlushAll() const {
  const std::string reply = Command({"FLUSHALL"});
  if (reply != "+OK") throw std::runtime_error("FLUSHALL on the test redis-server answered \"" + reply + "\"");
}

}  // namespace bot::testing
