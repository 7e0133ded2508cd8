// bench_turns: drives conversation turns through a running `mailguide serve` the way Slack
// would: each simulated support agent opens a case with a signed `/mailguide` slash command,
// then clicks one of the buttons of the latest answer (a signed block_actions payload carrying
// that answer's step token). The server acknowledges the click, runs the turn on a worker,
// commits it to the store (fsynced) and delivers the next step to the click's response_url,
// which points back at this tool. A turn counts when its next step has arrived; when a case
// ends (no buttons left) the agent opens a new one.
//
// Afterwards it opens the SQLite store read-only and checks that no turn was lost: every
// answered click appears exactly once in its conversation's turn log, and each session's
// version equals the length of its log.
//
//   bench_turns --url http://127.0.0.1:3000 --db var/sessions.db [--conversations 16]
//               [--duration 5] [--agent-prefix A] [--seed 1]
//   env: SLACK_SIGNING_SECRET
// Prints one line: TURNS turns=… rate=… p50_us=… p99_us=… lost=… stale=… verified=yes|no
// and exits 1 when a turn was lost or the store disagrees.
#include <httplib.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>


#include "adapters/slack/slack_json.h"
#include "adapters/slack/slack_signature.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kTeam = "T0001";
constexpr const char* kChannel = "C0BENCH01";

struct Options {
  std::string url = "http://127.0.0.1:3000";
  std::string db;
  std::string secret;
  std::string prefix = "A";
  int conversations = 16;
  double duration = 5;
  unsigned seed = 1;
};

// One response_url: deliveries for one click land here.
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> bodies;
};

struct Agent {
  std::string user;
  Inbox inbox;
  // Results, written by the agent's own thread only.
  int64_t clicks_sent = 0;
  int64_t clicks_answered = 0;  // the next step arrived
  int64_t clicks_stale = 0;     // answered with "that button belongs to an earlier question"
  int64_t clicks_lost = 0;      // acknowledged but never answered
  int64_t clicks_refused = 0;   // not acknowledged with 200
  int64_t starts = 0;
  std::vector<double> latencies_us;
  std::string error;
};

std::string Key(const std::string& user) { return std::string("slack:") + kTeam + ":" + kChannel + ":u:" + user; }

// One choice button of a reply, each field the raw JSON text it has in the reply. The click
// payload quotes them back unchanged, so a reply is scanned rather than parsed: a full
// nlohmann parse (~100 instructions a byte) made this tool cost more per turn than the server
// (tests/bench/README.md).
struct Button {
  std::string action_id, value, text;
};

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  return i;
}

// The end of the JSON value that starts at s[i]; npos when it is cut short.
size_t SkipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] == '"') {
    for (size_t j = i + 1; j < s.size(); ++j) {
      if (s[j] == '\\') {
        ++j;
      } else if (s[j] == '"') {
        return j + 1;
      }
    }
    return std::string_view::npos;
  }
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    for (size_t j = i; j < s.size();) {
      const char c = s[j];
      if (c == '"') {
        j = SkipValue(s, j);
        if (j == std::string_view::npos) return j;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if ((c == '}' || c == ']') && --depth == 0) return j + 1;
      ++j;
    }
    return std::string_view::npos;
  }
  size_t j = i;
  while (j < s.size() && s[j] != ',' && s[j] != '}' && s[j] != ']' && s[j] != ' ' && s[j] != '\n') ++j;
  return j;
}

// The members of the object at s[i], as raw texts (keys still quoted); empty when malformed.
std::map<std::string, std::string> Members(std::string_view s, size_t i) {
  std::map<std::string, std::string> out;
  i = SkipSpace(s, i + 1);
  while (i < s.size() && s[i] != '}') {
    const size_t key_end = SkipValue(s, i);
    if (key_end == std::string_view::npos || s[i] != '"') return {};
    const size_t colon = SkipSpace(s, key_end);
    if (colon >= s.size() || s[colon] != ':') return {};
    const size_t value = SkipSpace(s, colon + 1);
    const size_t value_end = SkipValue(s, value);
    if (value_end == std::string_view::npos) return {};
    out[std::string(s.substr(i, key_end - i))] = std::string(s.substr(value, value_end - value));
    i = SkipSpace(s, value_end);
    if (i < s.size() && s[i] == ',') i = SkipSpace(s, i + 1);
  }
  return out;
}

// Buttons of a Slack message that belong to a case (the share button excluded). Every
// element that has an action_id is an object; ours name theirs first (keys are sorted).
std::vector<Button> ChoiceButtons(std::string_view reply) {
  std::vector<Button> out;
  const std::string marker = std::string("{\"action_id\":\"") + bot::slack::kChoiceActionPrefix;
  for (size_t at = reply.find(marker); at != std::string_view::npos; at = reply.find(marker, at + 1)) {
    auto m = Members(reply, at);
    if (m.count("\"action_id\"") && m.count("\"value\"") && m.count("\"text\"")) {
      out.push_back({m["\"action_id\""], m["\"value\""], m["\"text\""]});
    }
  }
  return out;
}

httplib::Headers Signed(const std::string& secret, const std::string& body) {
  const std::string ts = std::to_string(std::time(nullptr));
  return {{"X-Slack-Request-Timestamp", ts},
          {"X-Slack-Signature", bot::slack::ComputeSlackSignature(secret, ts, body)},
          {"User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)"}};
}

// The per-key counts the verification compares: turns whose input is a click, all turns, and
// the stored session version.
struct StoreCounts {
  int64_t click_turns = 0;
  int64_t all_turns = 0;
  int64_t version = 0;
};

std::map<std::string, StoreCounts> ReadStore(const std::string& path, const std::string& key_prefix, std::string& error) {
  std::map<std::string, StoreCounts> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    error = "cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : "?");
    sqlite3_close(db);
    return out;
  }
  sqlite3_busy_timeout(db, 5000);
  auto query = [&](const char* sql, auto&& row) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
      error = std::string("query failed: ") + sqlite3_errmsg(db);
      return;
    }
    const std::string like = key_prefix + "%";
    sqlite3_bind_text(st, 1, like.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
      row(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))), sqlite3_column_int64(st, 1),
          sqlite3_column_int64(st, 2));
    }
    sqlite3_finalize(st);
  };
  // One read transaction, so the three views agree.
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  query("SELECT key, sum(input LIKE 'choice:%'), count(*) FROM turns WHERE key LIKE ?1 GROUP BY key",
        [&](const std::string& k, int64_t clicks, int64_t all) {
          out[k].click_turns = clicks;
          out[k].all_turns = all;
        });
  query("SELECT key, version, 0 FROM sessions WHERE key LIKE ?1",
        [&](const std::string& k, int64_t version, int64_t) { out[k].version = version; });
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return out;
}

void RunAgent(const Options& o, Agent& a, int index, int recv_port, Clock::time_point deadline) {
  httplib::Client cli(o.url);
  cli.set_keep_alive(true);
  cli.set_tcp_nodelay(true);
  cli.set_read_timeout(10, 0);
  cli.enable_server_certificate_verification(false);
  std::mt19937 rng(o.seed * 7919u + static_cast<unsigned>(index));
  const std::string response_base = "http://127.0.0.1:" + std::to_string(recv_port) + "/r/" + std::to_string(index) + "/";
  int64_t seq = 0;
  std::vector<Button> buttons;
  while (Clock::now() < deadline) {
    if (buttons.empty()) {
      // Open a case: /mailguide with no argument answers inline with the section buttons.
      const std::string form = bot::slack::EncodeForm({{"token", "x"},
                                                       {"team_id", kTeam},
                                                       {"team_domain", "example"},
                                                       {"channel_id", kChannel},
                                                       {"channel_name", "mail-ops"},
                                                       {"user_id", a.user},
                                                       {"user_name", a.user},
                                                       {"command", "/mailguide"},
                                                       {"text", ""},
                                                       {"api_app_id", "A0KRD7HC3"},
                                                       {"is_enterprise_install", "false"},
                                                       {"response_url", response_base + std::to_string(++seq)},
                                                       {"trigger_id", "start." + a.user + "." + std::to_string(seq)}});
      auto res = cli.Post("/slack/commands", Signed(o.secret, form), form, "application/x-www-form-urlencoded");
      if (!res || res->status != 200) {
        a.error = "/mailguide failed: " + (res ? "HTTP " + std::to_string(res->status) : httplib::to_string(res.error()));
        return;
      }
      ++a.starts;
      buttons = ChoiceButtons(res->body);
      if (buttons.empty()) {
        a.error = "/mailguide answered without buttons: " + res->body.substr(0, 200);
        return;
      }
    }
    const Button button = buttons[rng() % buttons.size()];
    const std::string id = std::to_string(++seq);
    // The payload Slack would send, written out: user and ids are plain ASCII chosen here, the
    // button's fields are JSON copied from the reply.
    const std::string payload =
        std::string(R"({"type":"block_actions","user":{"id":")") + a.user + R"(","username":")" + a.user +
        R"(","team_id":")" + kTeam + R"("},"team":{"id":")" + kTeam + R"(","domain":"example"},"api_app_id":"A0KRD7HC3",)" +
        R"("container":{"type":"message","message_ts":"1700000000.000100","channel_id":")" + kChannel +
        R"(","is_ephemeral":true},"channel":{"id":")" + kChannel + R"(","name":"mail-ops"},"trigger_id":"click.)" +
        a.user + "." + id + R"(","response_url":")" + response_base + id +
        R"(","actions":[{"type":"button","action_id":)" + button.action_id + R"(,"block_id":"b","value":)" + button.value +
        R"(,"text":)" + button.text + R"(,"action_ts":"1700000001.000100"}]})";
    const std::string form = bot::slack::EncodeForm({{"payload", payload}});
    {
      std::lock_guard<std::mutex> lock(a.inbox.mu);
      a.inbox.bodies.clear();
    }
    const auto t0 = Clock::now();
    ++a.clicks_sent;
    auto res = cli.Post("/slack/interactivity", Signed(o.secret, form), form, "application/x-www-form-urlencoded");
    if (!res || res->status != 200) {
      ++a.clicks_refused;
      if (a.error.empty()) a.error = "click refused: " + (res ? "HTTP " + std::to_string(res->status) : httplib::to_string(res.error()));
      buttons.clear();
      continue;
    }
    std::string body;
    {
      std::unique_lock<std::mutex> lock(a.inbox.mu);
      if (!a.inbox.cv.wait_for(lock, std::chrono::seconds(10), [&] { return !a.inbox.bodies.empty(); })) {
        ++a.clicks_lost;
        buttons.clear();
        continue;
      }
      body = a.inbox.bodies.front();
    }
    a.latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (body.find("belongs to an earlier question") != std::string::npos ||
        body.find("That check has ended") != std::string::npos) {
      ++a.clicks_stale;
    } else {
      ++a.clicks_answered;
    }
    // A reply without buttons ends this agent's case (resolved, escalated, or the buttons are
    // on a later message of a split reply, which goes out through chat.postEphemeral rather
    // than this response_url): the agent opens a new case.
    buttons = ChoiceButtons(body);
  }
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

int Usage() {
  std::cerr << "usage: bench_turns --url URL --db SQLITE_FILE [--conversations N] [--duration S] "
               "[--agent-prefix P] [--seed N]\nenv: SLACK_SIGNING_SECRET\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--url") o.url = next();
    else if (a == "--db") o.db = next();
    else if (a == "--conversations") o.conversations = std::atoi(next().c_str());
    else if (a == "--duration") o.duration = std::atof(next().c_str());
    else if (a == "--agent-prefix") o.prefix = next();
    else if (a == "--seed") o.seed = static_cast<unsigned>(std::atoi(next().c_str()));
    else return Usage();
  }
  if (const char* s = std::getenv("SLACK_SIGNING_SECRET")) o.secret = s;
  if (o.secret.empty() || o.db.empty() || o.conversations < 1) return Usage();

  std::vector<std::unique_ptr<Agent>> agents;
  for (int i = 0; i < o.conversations; ++i) {
    agents.push_back(std::make_unique<Agent>());
    agents.back()->user = "UB" + o.prefix + std::to_string(i);
  }
  const std::string key_prefix = std::string("slack:") + kTeam + ":" + kChannel + ":u:UB" + o.prefix;
  std::string error;
  const auto before = ReadStore(o.db, key_prefix, error);
  if (!error.empty()) {
    std::cerr << "bench_turns: " << error << "\n";
    return 1;
  }

  // The response_url receiver: the server's deliveries for agent i arrive at /r/i/<click>.
  httplib::Server receiver;
  receiver.set_tcp_nodelay(true);
  // Slack's hooks keep a connection open for many deliveries; httplib's default closes it
  // after 5, and a thread per kept-alive connection needs room for every server worker's.
  receiver.set_keep_alive_max_count(100000);
  receiver.new_task_queue = [n = o.conversations] { return new httplib::ThreadPool(static_cast<size_t>(std::max(64, n))); };
  receiver.Post(R"(/r/(\d+)/(\d+))", [&agents](const httplib::Request& req, httplib::Response& res) {
    const size_t i = static_cast<size_t>(std::stoul(req.matches[1]));
    if (i < agents.size()) {
      Inbox& box = agents[i]->inbox;
      std::lock_guard<std::mutex> lock(box.mu);
      box.bodies.push_back(req.body);
      box.cv.notify_all();
    }
    res.set_content("ok", "text/plain");
  });
  const int recv_port = receiver.bind_to_any_port("127.0.0.1");
  std::thread recv_thread([&] { receiver.listen_after_bind(); });

  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
  std::vector<std::thread> threads;
  for (int i = 0; i < o.conversations; ++i) {
    threads.emplace_back([&, i] { RunAgent(o, *agents[static_cast<size_t>(i)], i, recv_port, deadline); });
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  while (!receiver.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  receiver.stop();
  recv_thread.join();

  Agent total;
  std::vector<double> lat;
  for (auto& a : agents) {
    total.clicks_sent += a->clicks_sent;
    total.clicks_answered += a->clicks_answered;
    total.clicks_stale += a->clicks_stale;
    total.clicks_lost += a->clicks_lost;
    total.clicks_refused += a->clicks_refused;
    total.starts += a->starts;
    lat.insert(lat.end(), a->latencies_us.begin(), a->latencies_us.end());
    if (!a->error.empty()) std::cerr << "bench_turns: " << a->user << ": " << a->error << "\n";
  }

  // Every answered (non-stale) click is one "choice:" turn in its conversation's log, and
  // every session's version is the length of its log.
  const auto after = ReadStore(o.db, key_prefix, error);
  int64_t persisted = 0, bad_keys = 0;
  for (auto& a : agents) {
    const std::string k = Key(a->user);
    const StoreCounts now = after.count(k) ? after.at(k) : StoreCounts{};
    const StoreCounts then = before.count(k) ? before.at(k) : StoreCounts{};
    const int64_t clicks = now.click_turns - then.click_turns;
    persisted += clicks;
    if (clicks != a->clicks_answered || now.version != now.all_turns) {
      ++bad_keys;
      std::cerr << "bench_turns: " << k << ": " << a->clicks_answered << " clicks answered, " << clicks
                << " click turns persisted; version " << now.version << ", " << now.all_turns << " turns logged\n";
    }
  }
  const bool verified = error.empty() && bad_keys == 0 && total.clicks_lost == 0 && total.clicks_refused == 0;
  if (!error.empty()) std::cerr << "bench_turns: " << error << "\n";
  std::printf(
      "TURNS turns=%lld secs=%.2f rate=%.1f p50_us=%.0f p99_us=%.0f conversations=%d starts=%lld sent=%lld "
      "stale=%lld lost=%lld refused=%lld persisted=%lld bad_keys=%lld verified=%s\n",
      static_cast<long long>(total.clicks_answered), secs, static_cast<double>(total.clicks_answered) / secs,
      Percentile(lat, 50), Percentile(lat, 99), o.conversations, static_cast<long long>(total.starts),
      static_cast<long long>(total.clicks_sent), static_cast<long long>(total.clicks_stale),
      static_cast<long long>(total.clicks_lost), static_cast<long long>(total.clicks_refused),
      static_cast<long long>(persisted), static_cast<long long>(bad_keys), verified ? "yes" : "no");
  return verified ? 0 : 1;
}
