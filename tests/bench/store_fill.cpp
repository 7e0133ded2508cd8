// bench_store_fill: fills a SQLite session store with N realistic conversations, for the
// start-up and per-turn latency comparison between an empty and a full store. Each
// conversation is made by the real engine through SqliteSessionStore (so the bytes on disk
// are what production writes): a /mailguide case opened by its own agent, then a few button
// clicks, leaving some cases open and some finished. The work happens in a scratch directory
// (tmpfs by default, where fsync is free), then the checkpointed file is copied to --db.
//
//   bench_store_fill --db OUT.db [--conversations 100000] [--clicks 3] [--flows DIR] [--scratch /dev/shm]
// Prints: STORE conversations=… turns=… file_bytes=… bytes_per_conversation=… avg_session_bytes=…
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>

#include "bot/content.h"
#include "bot/engine.h"
#include "bot/store/sqlite_session_store.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  std::string out, flows = MAILGUIDE_BENCH_FLOWS_DIR, scratch = "/dev/shm";
  long conversations = 100000;
  int clicks = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--db") out = next();
    else if (a == "--conversations") conversations = std::atol(next().c_str());
    else if (a == "--clicks") clicks = std::atoi(next().c_str());
    else if (a == "--flows") flows = next();
    else if (a == "--scratch") scratch = next();
    else out.clear(), i = argc;
  }
  if (out.empty() || conversations < 1) {
    std::cerr << "usage: bench_store_fill --db OUT.db [--conversations N] [--clicks N] [--flows DIR] [--scratch DIR]\n";
    return 2;
  }
  auto content = bot::LoadContent(flows);
  if (!content.ok()) {
    std::cerr << "bench_store_fill: " << content.status().ToString() << "\n";
    return 1;
  }
  const fs::path work = fs::path(scratch) / ("mailguide-fill-" + std::to_string(::getpid()) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(work.string() + suffix);
  const auto t0 = std::chrono::steady_clock::now();
  int64_t turns = 0, session_bytes = 0;
  {
    auto store = bot::SqliteSessionStore::Open(work.string());
    if (!store.ok()) {
      std::cerr << "bench_store_fill: " << store.status().ToString() << "\n";
      return 1;
    }
    bot::Engine engine(*content, **store);
    std::mt19937 rng(42);
    for (long i = 0; i < conversations; ++i) {
      bot::Message m;
      m.ref.platform = "slack";
      m.ref.workspace = "T0001";
      m.ref.channel = "C0FILL" + std::to_string(i % 500);
      m.ref.user = "UF" + std::to_string(i);
      m.ref.thread = "u:" + m.ref.user;
      m.command = "mailguide";
      auto r = engine.Handle(m);
      if (!r.ok()) {
        std::cerr << "bench_store_fill: " << r.status().ToString() << "\n";
        return 1;
      }
      ++turns;
      // A few clicks on the latest buttons; a case that ends early stays ended.
      const int n = 1 + static_cast<int>(rng() % static_cast<unsigned>(std::max(1, clicks)));
      for (int c = 0; c < n; ++c) {
        const bot::Reply* with_choices = nullptr;
        for (const auto& reply : r->replies) {
          if (!reply.choices.empty()) with_choices = &reply;
        }
        if (!with_choices) break;
        bot::Message click;
        click.ref = m.ref;
        const auto& choice = with_choices->choices[rng() % with_choices->choices.size()];
        click.choice = choice.value;
        click.step_token = with_choices->step_token;
        r = engine.Handle(click);
        if (!r.ok()) {
          std::cerr << "bench_store_fill: " << r.status().ToString() << "\n";
          return 1;
        }
        ++turns;
      }
      if (i % 997 == 0) {
        auto bytes = (*store)->StoredBytesForTesting(m.ref.Key());
        if (bytes.ok()) session_bytes += static_cast<int64_t>(bytes->size());
      }
    }
  }  // closing the last connection checkpoints the WAL into the file
  const int64_t sampled = (conversations + 996) / 997;
  std::error_code ec;
  fs::copy_file(work, out, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    std::cerr << "bench_store_fill: cannot copy " << work << " to " << out << ": " << ec.message() << "\n";
    return 1;
  }
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(work.string() + suffix);
  const auto file_bytes = static_cast<int64_t>(fs::file_size(out));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("STORE conversations=%ld turns=%lld file_bytes=%lld bytes_per_conversation=%.0f avg_session_bytes=%.0f secs=%.1f\n",
              conversations, static_cast<long long>(turns), static_cast<long long>(file_bytes),
              static_cast<double>(file_bytes) / static_cast<double>(conversations),
              static_cast<double>(session_bytes) / static_cast<double>(sampled), secs);
  return 0;
}
