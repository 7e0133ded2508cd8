// CheckSlackMessage: every Block Kit limit mailguide relies on (reference/slack.md §6.2),
// checked on a message as the adapter would send it. Returns the problems, each naming a
// JSON path; empty means Slack would accept the shape.
#pragma once

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/slack/slack_json.h"

namespace bot::testing {

inline std::vector<std::string> CheckSlackMessage(const nlohmann::json& message) {
  using nlohmann::json;
  using slack::CharCount;
  std::vector<std::string> problems;
  auto problem = [&problems](const std::string& path, const std::string& what) { problems.push_back(path + ": " + what); };
  auto text_object = [&](const json& t, const std::string& path, size_t max, bool plain_only) {
    if (!t.is_object() || !t.contains("type") || !t.contains("text") || !t["text"].is_string()) {
      return problem(path, "not a text object");
    }
    const std::string type = t["type"];
    if (type != "plain_text" && type != "mrkdwn") problem(path + "/type", "unknown text type " + type);
    if (plain_only && type != "plain_text") problem(path + "/type", "must be plain_text");
    const size_t n = CharCount(t["text"].get<std::string>());
    if (n == 0) problem(path + "/text", "empty");
    if (n > max) problem(path + "/text", std::to_string(n) + " chars > " + std::to_string(max));
    if (t.contains("emoji") && type != "plain_text") problem(path + "/emoji", "only on plain_text");
  };

  if (!message.is_object()) return {"message is not an object"};
  if (!message.contains("text") || !message["text"].is_string() || message["text"].get<std::string>().empty()) {
    problem("/text", "missing plain-text fallback");
  } else if (CharCount(message["text"].get<std::string>()) > 40000) {
    problem("/text", "over 40000 chars");
  }
  if (!message.contains("blocks")) return problems;
  const json& blocks = message["blocks"];
  if (!blocks.is_array()) return {"/blocks is not an array"};
  if (blocks.size() > 50) problem("/blocks", std::to_string(blocks.size()) + " blocks > 50");
  std::set<std::string> block_ids, action_ids;
  size_t total_chars = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const json& b = blocks[i];
    const std::string path = "/blocks/" + std::to_string(i);
    const std::string type = b.value("type", "");
    if (b.contains("block_id")) {
      const std::string id = b["block_id"];
      if (CharCount(id) > 255) problem(path + "/block_id", "over 255 chars");
      if (!block_ids.insert(id).second) problem(path + "/block_id", "duplicate " + id);
    }
    if (type == "header") {
      text_object(b["text"], path + "/text", 150, true);
      total_chars += CharCount(b["text"].value("text", ""));
    } else if (type == "section") {
      if (!b.contains("text") && !b.contains("fields")) problem(path, "section without text or fields");
      if (b.contains("text")) {
        text_object(b["text"], path + "/text", 3000, false);
        total_chars += CharCount(b["text"].value("text", ""));
      }
      if (b.contains("fields")) {
        if (b["fields"].size() > 10) problem(path + "/fields", "over 10 fields");
        for (size_t k = 0; k < b["fields"].size(); ++k) {
          text_object(b["fields"][k], path + "/fields/" + std::to_string(k), 2000, false);
          total_chars += CharCount(b["fields"][k].value("text", ""));
        }
      }
    } else if (type == "context") {
      if (!b.contains("elements") || b["elements"].empty()) problem(path, "context without elements");
      if (b["elements"].size() > 10) problem(path + "/elements", "over 10 elements");
      for (size_t k = 0; k < b["elements"].size(); ++k) {
        text_object(b["elements"][k], path + "/elements/" + std::to_string(k), 3000, false);
        total_chars += CharCount(b["elements"][k].value("text", ""));
      }
    } else if (type == "actions") {
      if (!b.contains("elements") || b["elements"].empty()) problem(path, "actions without elements");
      if (b["elements"].size() > 25) problem(path + "/elements", "over 25 elements");
      for (size_t k = 0; k < b["elements"].size(); ++k) {
        const json& e = b["elements"][k];
        const std::string ep = path + "/elements/" + std::to_string(k);
        if (e.value("type", "") != "button") problem(ep, "not a button");
        text_object(e["text"], ep + "/text", 75, true);
        const std::string action_id = e.value("action_id", "");
        if (action_id.empty() || CharCount(action_id) > 255) problem(ep + "/action_id", "missing or over 255 chars");
        if (!action_ids.insert(action_id).second) problem(ep + "/action_id", "duplicate " + action_id);
        if (e.contains("value") && CharCount(e["value"].get<std::string>()) > 2000) problem(ep + "/value", "over 2000 chars");
        if (e.contains("style") && e["style"] != "primary" && e["style"] != "danger") problem(ep + "/style", "unknown style");
      }
    } else if (type != "divider") {
      problem(path + "/type", "unexpected block type '" + type + "'");
    }
  }
  // Slack's msg_blocks_too_long appears from ~12k characters of text in total.
  if (total_chars > 12000) problem("/blocks", std::to_string(total_chars) + " chars of text in total > 12000");
  return problems;
}

}  // namespace bot::testing
