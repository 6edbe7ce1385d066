// activation/webhook_sink.h against a real receiver, tools/push_receiver.py,
// run as a child process on a loopback port: what it ends up holding (its
// GET /state, parsed here) is compared with a set this file computes itself
// from the pushed adds and removes. The receiver's --fail-first, --hang-first
// and --expect-token make the failures the sink must retry or give up on.
// Timings are small (300 ms exchanges, 5-50 ms backoff), so every test ends
// by itself within seconds. The receiver's file mode (--apply-dir) is checked
// on a hand-made directory, its digests computed here with libcrypto.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "activation/push_payload.h"
#include "activation/webhook_sink.h"
#include "tests/support/push_receiver_process.h"
#include "tests/support/server_process.h"
#include "tests/support/tool_process.h"

namespace crowd::activation {
namespace {

const std::string kScript = std::string(CROWD_SOURCE_DIR) + "/tools/push_receiver.py";

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Fixed chunks; restart() rewinds. on_handing_out(i) runs as chunk i (from
// 0) is handed out, which the sink does one chunk ahead of sending it.
class ChunkPayload : public PayloadSource {
 public:
  explicit ChunkPayload(std::vector<std::string> chunks) : chunks_(std::move(chunks)) {}
  bool next(std::string& out) override {
    out.clear();
    if (at_ == chunks_.size()) return false;
    if (on_handing_out) on_handing_out(at_);
    out = chunks_[at_++];
    return true;
  }
  void restart() override { at_ = 0; }
  [[nodiscard]] uint64_t bytes() const {
    uint64_t n = 0;
    for (const auto& c : chunks_) n += c.size();
    return n;
  }
  [[nodiscard]] std::size_t size() const { return chunks_.size(); }

  std::function<void(std::size_t)> on_handing_out;

 private:
  std::vector<std::string> chunks_;
  std::size_t at_ = 0;
};

struct Op {
  bool add = true;
  std::string id;
};

std::vector<Op> adds_of(const std::string& prefix, int from, int to) {
  std::vector<Op> ops;
  for (int i = from; i < to; ++i) ops.push_back({true, prefix + std::to_string(i)});
  return ops;
}

std::vector<Op> removes_of(const std::string& prefix, int from, int to) {
  auto ops = adds_of(prefix, from, to);
  for (auto& op : ops) op.add = false;
  return ops;
}

std::vector<Op> operator+(std::vector<Op> a, const std::vector<Op>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// What the receiver should hold once a push of `ops` is applied.
void apply_to_model(std::set<std::string>& model, bool full, const std::vector<Op>& ops) {
  if (full) model.clear();
  for (const auto& op : ops) {
    if (op.add)
      model.insert(op.id);
    else
      model.erase(op.id);
  }
}

std::string csv_field(const std::string& id) {
  if (id.find_first_of(",\"\n") == std::string::npos) return id;
  std::string quoted = "\"";
  for (const char c : id) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// `ops` as payload lines, `per_chunk` lines a chunk (the CSV header in the first).
std::vector<std::string> chunks_of(const std::vector<Op>& ops, std::size_t per_chunk,
                                   PayloadFormat format = PayloadFormat::kNdjson) {
  std::vector<std::string> chunks;
  std::string chunk = format == PayloadFormat::kCsv ? "op,id\n" : "";
  std::size_t lines = 0;
  for (const auto& op : ops) {
    const char* name = op.add ? "add" : "remove";
    chunk += format == PayloadFormat::kCsv ? std::string(name) + "," + csv_field(op.id) + "\n"
                                           : json{{"op", name}, {"id", op.id}}.dump() + "\n";
    if (++lines % per_chunk == 0) chunks.push_back(std::exchange(chunk, ""));
  }
  if (!chunk.empty()) chunks.push_back(chunk);
  return chunks;
}

PushInfo push_info(unsigned n, bool full, uint64_t version, uint64_t base_version,
                   PayloadFormat format = PayloadFormat::kNdjson) {
  char id[33];
  std::snprintf(id, sizeof id, "%032x", n);
  PushInfo p;
  p.push_id = id;
  p.crowd = "fans of caf\xc3\xa9 / \"late\"";
  p.destination = "hook 1";
  p.full = full;
  p.version = version;
  p.base_version = base_version;
  p.format = format;
  return p;
}

WebhookOptions quick_options(const std::string& url) {
  WebhookOptions o;
  o.url = url;
  o.request_timeout = milliseconds(300);
  o.deadline = milliseconds(10'000);
  o.backoff_initial = milliseconds(5);
  o.backoff_max = milliseconds(50);
  return o;
}

std::set<std::string> ids_of(const json& state) { return state.at("ids").get<std::set<std::string>>(); }

long long ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

TEST(ActivationWebhook, FullThenDeltaLeavesTheReceiverEqualToTheModel) {
  test::PushReceiver receiver;
  ASSERT_NE(receiver.port(), 0) << receiver.log();
  std::set<std::string> model;

  const auto full_ops = adds_of("u", 0, 30);
  ChunkPayload full(chunks_of(full_ops, 7));
  ASSERT_EQ(full.size(), 5u);
  const auto first = deliver_webhook(quick_options(receiver.url()), push_info(1, true, 1, 0), full);
  ASSERT_TRUE(first.delivered) << first.error;
  EXPECT_EQ(first.attempts, 5u);
  EXPECT_EQ(first.bytes, full.bytes());
  apply_to_model(model, true, full_ops);
  auto state = receiver.state();
  EXPECT_EQ(state["version"], 1);
  EXPECT_EQ(ids_of(state), model);

  // Removes first, then adds (one of them of an ID just removed).
  const auto delta_ops = removes_of("u", 0, 10) + adds_of("n", 0, 5) + adds_of("u", 3, 4);
  ChunkPayload delta(chunks_of(delta_ops, 4));
  const auto second = deliver_webhook(quick_options(receiver.url()), push_info(2, false, 2, 1), delta);
  ASSERT_TRUE(second.delivered) << second.error;
  EXPECT_EQ(second.attempts, delta.size());
  apply_to_model(model, false, delta_ops);
  state = receiver.state();
  EXPECT_EQ(state["version"], 2);
  EXPECT_EQ(ids_of(state), model);
  EXPECT_EQ(state["applied"], json::array({push_info(1, true, 1, 0).push_id, push_info(2, false, 2, 1).push_id}));
  EXPECT_EQ(state["pushes"][1]["removes"], 10);
  EXPECT_EQ(state["pushes"][1]["adds"], 6);
  EXPECT_EQ(state["requests"], 5 + delta.size());
}

TEST(ActivationWebhook, CsvIdsWithCommasAndQuotesArriveIntact) {
  test::PushReceiver receiver;
  ASSERT_NE(receiver.port(), 0) << receiver.log();
  const std::vector<Op> ops = {{true, "plain"}, {true, "a,b"}, {true, "say \"hi\""}, {true, "caf\xc3\xa9"}};
  ChunkPayload payload(chunks_of(ops, 3, PayloadFormat::kCsv));
  const auto outcome =
      deliver_webhook(quick_options(receiver.url()), push_info(1, true, 4, 0, PayloadFormat::kCsv), payload);
  ASSERT_TRUE(outcome.delivered) << outcome.error;
  std::set<std::string> model;
  apply_to_model(model, true, ops);
  const auto state = receiver.state();
  EXPECT_EQ(ids_of(state), model);
  EXPECT_EQ(state["version"], 4);
}

TEST(ActivationWebhook, ServerErrorsAreRetriedUntilDelivered) {
  test::PushReceiver receiver({"--fail-first", "3"});
  ASSERT_NE(receiver.port(), 0) << receiver.log();
  const auto ops = adds_of("u", 0, 10);
  ChunkPayload payload(chunks_of(ops, 5));
  const auto outcome = deliver_webhook(quick_options(receiver.url()), push_info(1, true, 1, 0), payload);
  ASSERT_TRUE(outcome.delivered) << outcome.error;
  EXPECT_EQ(outcome.attempts, payload.size() + 3);
  EXPECT_EQ(outcome.bytes, payload.bytes());
  std::set<std::string> model;
  apply_to_model(model, true, ops);
  const auto state = receiver.state();
  EXPECT_EQ(ids_of(state), model);
  EXPECT_EQ(state["requests"], payload.size() + 3);
}

TEST(ActivationWebhook, AnExchangeWithNoAnswerTimesOutAndIsRetried) {
  test::PushReceiver receiver({"--hang-first", "1", "--hang-seconds", "3"});
  ASSERT_NE(receiver.port(), 0) << receiver.log();
  const auto ops = adds_of("u", 0, 4);
  ChunkPayload payload(chunks_of(ops, 2));
  const auto start = Clock::now();
  const auto outcome = deliver_webhook(quick_options(receiver.url()), push_info(1, true, 1, 0), payload);
  ASSERT_TRUE(outcome.delivered) << outcome.error;
  EXPECT_EQ(outcome.attempts, payload.size() + 1);
  EXPECT_LT(ms_since(start), 2'000) << "waited for the hung answer instead of timing out";
  std::set<std::string> model;
  apply_to_model(model, true, ops);
  EXPECT_EQ(ids_of(receiver.state()), model);
}

TEST(ActivationWebhook, ARefusedLineFailsAtOnceAndChangesNothing) {
  test::PushReceiver receiver;
  ASSERT_NE(receiver.port(), 0) << receiver.log();
  ChunkPayload base(chunks_of(adds_of("u", 0, 5), 10));
  ASSERT_TRUE(deliver_webhook(quick_options(receiver.url()), push_info(1, true, 1, 0), base).delivered);
  const auto before = receiver.state();

  ChunkPayload bad({"{\"op\":\"add\",\"id\":\"x\"}\n{\"op\":\"flip\",\"id\":\"y\"}\n"});
  const auto outcome = deliver_webhook(quick_options(receiver.url()), push_info(2, false, 2, 1), bad);
  EXPECT_FALSE(outcome.delivered);
  EXPECT_EQ(outcome.attempts, 1u);
  EXPECT_EQ(outcome.bytes, 0u);
  EXPECT_EQ(outcome.error, "receiver refused chunk 1: HTTP 400 Bad Request");

  // A bad second chunk: the first was staged, and is discarded with it.
  ChunkPayload bad_later({"{\"op\":\"add\",\"id\":\"x\"}\n", "not json\n", "{\"op\":\"add\",\"id\":\"z\"}\n"});
  const auto later = deliver_webhook(quick_options(receiver.url()), push_info(3, false, 2, 1), bad_later);
  EXPECT_FALSE(later.delivered);
  EXPECT_EQ(later.attempts, 2u);
  EXPECT_EQ(later.error, "receiver refused chunk 2: HTTP 400 Bad Request");

  const auto after = receiver.state();
  EXPECT_EQ(after["version"], before["version"]);
  EXPECT_EQ(after["ids"], before["ids"]);
  EXPECT_EQ(after["applied"], before["applied"]);
}

TEST(ActivationWebhook, ADeltaForAnotherBaseVersionIsRefused) {
  test::PushReceiver receiver;
  ASSERT_NE(receiver.port(), 0) << receiver.log();
  ChunkPayload base(chunks_of(adds_of("u", 0, 5), 10));
  ASSERT_TRUE(deliver_webhook(quick_options(receiver.url()), push_info(1, true, 1, 0), base).delivered);
  const auto before = receiver.state();
  ChunkPayload delta(chunks_of(removes_of("u", 0, 2) + adds_of("n", 0, 2), 2));
  const auto outcome = deliver_webhook(quick_options(receiver.url()), push_info(2, false, 6, 5), delta);
  EXPECT_FALSE(outcome.delivered);
  EXPECT_EQ(outcome.attempts, delta.size());  // refused only when the last chunk would apply it
  EXPECT_EQ(outcome.error, "receiver refused chunk 2: HTTP 409 Conflict");
  const auto after = receiver.state();
  EXPECT_EQ(after["version"], before["version"]);
  EXPECT_EQ(after["ids"], before["ids"]);
}

TEST(ActivationWebhook, TheDeadlineEndsRetriesInTime) {
  test::PushReceiver receiver({"--fail-first", "1000"});
  ASSERT_NE(receiver.port(), 0) << receiver.log();
  auto options = quick_options(receiver.url());
  options.deadline = milliseconds(600);
  options.max_attempts = 1000;
  ChunkPayload payload(chunks_of(adds_of("u", 0, 3), 10));
  const auto start = Clock::now();
  const auto outcome = deliver_webhook(options, push_info(1, true, 1, 0), payload);
  const auto took = ms_since(start);
  EXPECT_FALSE(outcome.delivered);
  EXPECT_EQ(outcome.error, "deadline of 0.6 s passed at chunk 1");
  EXPECT_GT(outcome.attempts, 1u);
  EXPECT_GE(took, 400);
  EXPECT_LT(took, 1'100);
  EXPECT_EQ(receiver.state()["version"], 0);
}

TEST(ActivationWebhook, TheSamePushTwiceIsAppliedOnce) {
  test::PushReceiver receiver;
  ASSERT_NE(receiver.port(), 0) << receiver.log();
  ChunkPayload payload(chunks_of(adds_of("u", 0, 9), 3));
  const auto push = push_info(1, true, 1, 0);
  ASSERT_TRUE(deliver_webhook(quick_options(receiver.url()), push, payload).delivered);
  const auto once = receiver.state();
  const auto again = deliver_webhook(quick_options(receiver.url()), push, payload);
  ASSERT_TRUE(again.delivered) << again.error;  // "already applied" is a 200
  const auto twice = receiver.state();
  EXPECT_EQ(twice["version"], once["version"]);
  EXPECT_EQ(twice["ids"], once["ids"]);
  EXPECT_EQ(twice["applied"], json::array({push.push_id}));
  EXPECT_EQ(twice["pushes"].size(), 1u);
}

TEST(ActivationWebhook, AStoppedDeliveryRedeliveredFromTheStartAppliesOnce) {
  test::PushReceiver receiver;
  ASSERT_NE(receiver.port(), 0) << receiver.log();
  std::set<std::string> model;
  const auto base_ops = adds_of("u", 0, 20);
  ChunkPayload base(chunks_of(base_ops, 20));
  ASSERT_TRUE(deliver_webhook(quick_options(receiver.url()), push_info(1, true, 1, 0), base).delivered);
  apply_to_model(model, true, base_ops);

  const auto delta_ops = removes_of("u", 0, 6) + adds_of("n", 0, 4);
  ChunkPayload delta(chunks_of(delta_ops, 2));
  ASSERT_EQ(delta.size(), 5u);
  std::atomic<bool> stop{false};
  // Chunk 4 is handed out once chunk 2 has been answered.
  delta.on_handing_out = [&stop](std::size_t i) {
    if (i == 3) stop = true;
  };
  const auto push = push_info(2, false, 2, 1);
  const auto stopped = deliver_webhook(quick_options(receiver.url()), push, delta, &stop);
  EXPECT_FALSE(stopped.delivered);
  EXPECT_EQ(stopped.error, "stopped");
  EXPECT_EQ(stopped.attempts, 2u);
  auto state = receiver.state();
  EXPECT_EQ(state["version"], 1);
  EXPECT_EQ(ids_of(state), model);

  delta.on_handing_out = nullptr;
  const auto redelivered = deliver_webhook(quick_options(receiver.url()), push, delta);
  ASSERT_TRUE(redelivered.delivered) << redelivered.error;
  EXPECT_EQ(redelivered.attempts, 5u);
  apply_to_model(model, false, delta_ops);
  state = receiver.state();
  EXPECT_EQ(state["version"], 2);
  EXPECT_EQ(ids_of(state), model);
  EXPECT_EQ(state["applied"], json::array({push_info(1, true, 1, 0).push_id, push.push_id}));
}

TEST(ActivationWebhook, StopEndsABackoffWaitAndAHungExchangePromptly) {
  std::atomic<bool> stop{false};
  auto stop_after = [&stop](milliseconds delay) {
    stop = false;
    return std::thread([&stop, delay] {
      std::this_thread::sleep_for(delay);
      stop = true;
    });
  };
  {
    test::PushReceiver failing({"--fail-first", "1000"});
    ASSERT_NE(failing.port(), 0) << failing.log();
    auto options = quick_options(failing.url());
    options.backoff_initial = options.backoff_max = milliseconds(5'000);
    ChunkPayload payload(chunks_of(adds_of("u", 0, 3), 10));
    auto stopper = stop_after(milliseconds(300));
    const auto start = Clock::now();
    const auto outcome = deliver_webhook(options, push_info(1, true, 1, 0), payload, &stop);
    const auto took = ms_since(start);
    stopper.join();
    EXPECT_EQ(outcome.error, "stopped");
    EXPECT_LT(took, 300 + 250);
  }
  {
    test::PushReceiver hanging({"--hang-first", "1", "--hang-seconds", "5"});
    ASSERT_NE(hanging.port(), 0) << hanging.log();
    auto options = quick_options(hanging.url());
    options.request_timeout = milliseconds(5'000);
    ChunkPayload payload(chunks_of(adds_of("u", 0, 3), 10));
    auto stopper = stop_after(milliseconds(300));
    const auto start = Clock::now();
    const auto outcome = deliver_webhook(options, push_info(1, true, 1, 0), payload, &stop);
    const auto took = ms_since(start);
    stopper.join();
    EXPECT_EQ(outcome.error, "stopped");
    EXPECT_EQ(outcome.attempts, 1u);
    EXPECT_LT(took, 300 + 250);
  }
}

TEST(ActivationWebhook, AnEmptyPayloadStillMovesTheVersion) {
  test::PushReceiver receiver;
  ASSERT_NE(receiver.port(), 0) << receiver.log();
  ChunkPayload base(chunks_of(adds_of("u", 0, 4), 10));
  ASSERT_TRUE(deliver_webhook(quick_options(receiver.url()), push_info(1, true, 1, 0), base).delivered);
  const auto before = receiver.state();
  ChunkPayload empty({});
  const auto outcome = deliver_webhook(quick_options(receiver.url()), push_info(2, false, 2, 1), empty);
  ASSERT_TRUE(outcome.delivered) << outcome.error;
  EXPECT_EQ(outcome.attempts, 1u);
  EXPECT_EQ(outcome.bytes, 0u);
  const auto after = receiver.state();
  EXPECT_EQ(after["version"], 2);
  EXPECT_EQ(after["ids"], before["ids"]);
  EXPECT_EQ(after["pushes"][1]["adds"], 0);
}

TEST(ActivationWebhook, UrlProblemsAreNamedWithoutRepeatingTheUrl) {
  EXPECT_EQ(webhook_url_problem("http://127.0.0.1:8080/x"), std::nullopt);
  EXPECT_EQ(webhook_url_problem("http://hooks.example.com/in?key=1"), std::nullopt);
  EXPECT_EQ(webhook_url_problem("http://[::1]:9000/"), std::nullopt);
  const auto https = webhook_url_problem("https://hooks.example.com/x");
  ASSERT_TRUE(https);
  EXPECT_NE(https->find("TLS is left to a proxy"), std::string::npos) << *https;
  for (const char* refused :
       {"ftp://hooks.example.com/x", "http:///x", "http://h.example/x#part", "http://user:pa55word@h.example/x",
        "http://h.example:99999/", "http://h.example:0/", "not a url", ""}) {
    const auto problem = webhook_url_problem(refused);
    ASSERT_TRUE(problem) << refused;
    EXPECT_EQ(problem->find("pa55word"), std::string::npos) << *problem;
    EXPECT_EQ(problem->find("h.example"), std::string::npos) << *problem;
  }
}

// A port nothing listens on: bound by the kernel's choice, then released.
int closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

TEST(ActivationWebhook, ASecretHeaderNeverReachesAnError) {
  const std::string secret = "s3cret-token";
  test::PushReceiver receiver({"--expect-token", "right-token"});
  ASSERT_NE(receiver.port(), 0) << receiver.log();
  ChunkPayload payload(chunks_of(adds_of("u", 0, 3), 10));

  auto options = quick_options(receiver.url());
  options.headers = {{"Authorization", "Bearer " + secret}};
  const auto refused = deliver_webhook(options, push_info(1, true, 1, 0), payload);
  EXPECT_FALSE(refused.delivered);
  EXPECT_EQ(refused.attempts, 1u);
  EXPECT_EQ(refused.error, "receiver refused chunk 1: HTTP 401 Unauthorized");

  options.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/hook";
  options.max_attempts = 2;
  const auto unreachable = deliver_webhook(options, push_info(1, true, 1, 0), payload);
  EXPECT_FALSE(unreachable.delivered);
  EXPECT_EQ(unreachable.attempts, 2u);
  EXPECT_EQ(unreachable.error, "chunk 1 of push: connection refused after 2 attempts");

  options.headers = {{"Authorization", "Bearer " + secret + "\r\nX-Injected: 1"}};
  const auto malformed = deliver_webhook(options, push_info(1, true, 1, 0), payload);
  EXPECT_EQ(malformed.attempts, 0u);
  EXPECT_EQ(malformed.error, "extra header 1 is malformed");

  for (const auto* error : {&refused.error, &unreachable.error, &malformed.error}) {
    EXPECT_EQ(error->find(secret), std::string::npos) << *error;
    EXPECT_EQ(error->find("127.0.0.1"), std::string::npos) << *error;
  }

  options = quick_options(receiver.url());
  options.headers = {{"Authorization", "Bearer right-token"}};
  const auto accepted = deliver_webhook(options, push_info(1, true, 1, 0), payload);
  EXPECT_TRUE(accepted.delivered) << accepted.error;
  EXPECT_EQ(receiver.state()["version"], 1);
}

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), md, &length, EVP_sha256(), nullptr), 1);
  std::string hex;
  for (unsigned i = 0; i < length; ++i) {
    char byte[3];
    std::snprintf(byte, sizeof byte, "%02x", md[i]);
    hex += byte;
  }
  return hex;
}

// A file destination's push: the payload file and its manifest, in `dir`.
void write_push(const std::string& dir, const std::string& name, const PushInfo& push, const std::vector<Op>& ops,
                const std::string& digest_override = "") {
  std::string payload;
  for (const auto& chunk : chunks_of(ops, ops.size() + 1, push.format)) payload += chunk;
  const auto payload_name = name + (push.format == PayloadFormat::kCsv ? ".csv" : ".ndjson");
  std::ofstream(dir + "/" + payload_name, std::ios::binary) << payload;
  uint64_t adds = 0;
  for (const auto& op : ops) adds += op.add ? 1 : 0;
  const json manifest = {{"push_id", push.push_id},
                         {"crowd", push.crowd},
                         {"destination", push.destination},
                         {"mode", push.full ? "full" : "delta"},
                         {"version", push.version},
                         {"base_version", push.base_version},
                         {"format", format_name(push.format)},
                         {"adds", adds},
                         {"removes", ops.size() - adds},
                         {"bytes", payload.size()},
                         {"sha256", digest_override.empty() ? sha256_hex(payload) : digest_override},
                         {"payload", payload_name},
                         {"created", "2024-05-01T12:00:00Z"}};
  std::ofstream(dir + "/" + name + ".manifest.json") << manifest.dump(2);
}

TEST(ActivationWebhook, ApplyDirAppliesManifestsInVersionOrderAndRefusesABadDigest) {
  const test::ScratchDir dir("crowd-push-apply");
  const auto state_path = dir.path + "/state.json";
  const auto apply = [&](const std::string& from) {
    return test::run_tool({test::python3_path(), kScript, "--apply-dir", from, "--state", state_path});
  };
  std::set<std::string> model;
  const auto full_ops = adds_of("u", 0, 6);
  const std::vector<Op> delta_ops = {{false, "u1"}, {false, "u4"}, {true, "x,y"}, {true, "q\"q"}};
  // Named so that name order is not version order.
  write_push(dir.path, "b-first", push_info(1, true, 1, 0), full_ops);
  write_push(dir.path, "a-second", push_info(2, false, 2, 1, PayloadFormat::kCsv), delta_ops);
  apply_to_model(model, true, full_ops);
  apply_to_model(model, false, delta_ops);

  const auto run = apply(dir.path);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto state = json::parse(test::read_file(state_path));
  EXPECT_EQ(state["version"], 2);
  EXPECT_EQ(ids_of(state), model);
  EXPECT_EQ(state["applied"], json::array({push_info(1, true, 1, 0).push_id, push_info(2, false, 2, 1).push_id}));

  const auto rerun = apply(dir.path);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(json::parse(test::read_file(state_path)), state);

  write_push(dir.path, "c-bad", push_info(3, false, 3, 2), {{true, "z"}}, std::string(64, '0'));
  const auto bad = apply(dir.path);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("SHA-256"), std::string::npos) << bad.err;
  EXPECT_EQ(json::parse(test::read_file(state_path)), state);
}

}  // namespace
}  // namespace crowd::activation
