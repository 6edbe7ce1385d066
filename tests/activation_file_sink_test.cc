// activation/file_sink.h against real directories: the two files a push
// becomes, what the manifest says, that nothing temporary is left behind,
// that a retry rewrites the same names, and the directories that cannot take
// pushes. The payload's SHA-256 is recomputed here with libcrypto's one-shot
// EVP_Digest over the file as written, not with the sink's streaming hasher.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "activation/file_sink.h"
#include "activation/schedule.h"
#include "tests/support/tool_process.h"

namespace crowd::activation {
namespace {

using crowd::test::read_file;
using crowd::test::ScratchDir;

constexpr char kPushId[] = "0123456789abcdef0123456789abcdef";

// Hands out fixed chunks; `on_next` runs before each one (to look at the
// directory mid-push, or to fail).
class ChunkSource : public PayloadSource {
 public:
  explicit ChunkSource(std::vector<std::string> chunks) : chunks_(std::move(chunks)) {}
  bool next(std::string& out) override {
    if (on_next) on_next(at_);
    if (at_ == chunks_.size()) {
      out.clear();
      return false;
    }
    out = chunks_[at_++];
    return true;
  }
  void restart() override {
    at_ = 0;
    ++restarts;
  }
  std::function<void(std::size_t)> on_next;
  int restarts = 0;

 private:
  std::vector<std::string> chunks_;
  std::size_t at_ = 0;
};

PushInfo sample_push() {
  PushInfo p;
  p.push_id = kPushId;
  p.crowd = "spring-sale";
  p.destination = "meta-ads";
  p.full = false;
  p.seq = 12;
  p.version = 7;
  p.base_version = 6;
  p.format = PayloadFormat::kNdjson;
  p.adds = 3;
  p.removes = 1;
  return p;
}

std::vector<std::string> sample_chunks() {
  return {R"({"op":"remove","id":"u9"})"
          "\n",
          R"({"op":"add","id":"u1"})"
          "\n"
          R"({"op":"add","id":"u2"})"
          "\n",
          // Big enough that the file takes more than one write.
          R"({"op":"add","id":")" + std::string(300'000, 'x') + "\"}\n"};
}

std::string concatenated(const std::vector<std::string>& chunks) {
  std::string all;
  for (const auto& c : chunks) all += c;
  return all;
}

std::string sha256_hex_of(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EXPECT_EQ(EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr), 1);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    hex += buf;
  }
  return hex;
}

std::vector<std::string> entries(const std::string& directory) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(directory)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

unsigned permissions(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(FileSink, WritesThePayloadAndAManifestDescribingIt) {
  const ScratchDir dir("crowd-file-sink");
  const PushInfo push = sample_push();
  ChunkSource source(sample_chunks());
  const int64_t before =
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()).time_since_epoch().count();
  const DeliveryOutcome out = deliver_file(dir.path, push, source);
  const int64_t after =
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()).time_since_epoch().count();
  ASSERT_TRUE(out.delivered) << out.error;

  const PushFileNames names = push_file_names(push);
  EXPECT_EQ(names.payload, std::string("spring-sale.v0000000007.p0000000012.") + kPushId + ".ndjson");
  EXPECT_EQ(names.manifest, std::string("spring-sale.v0000000007.p0000000012.") + kPushId + ".manifest.json");
  const std::vector<std::string> both = {names.manifest, names.payload};  // as sorted
  EXPECT_EQ(entries(dir.path), both) << "only the two files, no temporary ones";

  const std::string payload = read_file(dir.path + "/" + names.payload);
  EXPECT_EQ(payload, concatenated(sample_chunks()));
  EXPECT_EQ(out.attempts, 1u);
  EXPECT_EQ(out.bytes, payload.size());
  EXPECT_EQ(out.sha256, sha256_hex_of(payload));
  EXPECT_EQ(permissions(dir.path + "/" + names.payload), 0640u);
  EXPECT_EQ(permissions(dir.path + "/" + names.manifest), 0640u);

  const auto manifest = nlohmann::json::parse(read_file(dir.path + "/" + names.manifest));
  EXPECT_EQ(manifest.size(), 14u);
  EXPECT_EQ(manifest["seq"], push.seq);
  EXPECT_EQ(manifest["push_id"], push.push_id);
  EXPECT_EQ(manifest["crowd"], push.crowd);
  EXPECT_EQ(manifest["destination"], push.destination);
  EXPECT_EQ(manifest["mode"], "delta");
  EXPECT_EQ(manifest["version"], push.version);
  EXPECT_EQ(manifest["base_version"], push.base_version);
  EXPECT_EQ(manifest["format"], "ndjson");
  EXPECT_EQ(manifest["adds"], push.adds);
  EXPECT_EQ(manifest["removes"], push.removes);
  EXPECT_EQ(manifest["bytes"], payload.size());
  EXPECT_EQ(manifest["sha256"], sha256_hex_of(payload));
  EXPECT_EQ(manifest["payload"], names.payload);
  const auto created = parse_utc_time(manifest["created"].get<std::string>());
  ASSERT_TRUE(created.has_value()) << manifest["created"];
  EXPECT_GE(*created, before);
  EXPECT_LE(*created, after);
}

TEST(FileSink, AFullCsvPushIsNamedAndDescribedAsSuch) {
  const ScratchDir dir("crowd-file-sink");
  PushInfo push = sample_push();
  push.full = true;
  push.base_version = 0;
  push.removes = 0;
  push.version = 4'294'967'296;  // past 32 bits, still 10 digits
  push.format = PayloadFormat::kCsv;
  ChunkSource source({"op,id\nadd,1\n", "add,2\n"});
  const DeliveryOutcome out = deliver_file(dir.path, push, source);
  ASSERT_TRUE(out.delivered) << out.error;
  const PushFileNames names = push_file_names(push);
  EXPECT_EQ(names.payload, std::string("spring-sale.v4294967296.p0000000012.") + kPushId + ".csv");
  EXPECT_EQ(read_file(dir.path + "/" + names.payload), "op,id\nadd,1\nadd,2\n");
  const auto manifest = nlohmann::json::parse(read_file(dir.path + "/" + names.manifest));
  EXPECT_EQ(manifest["mode"], "full");
  EXPECT_EQ(manifest["format"], "csv");
  EXPECT_EQ(manifest["base_version"], 0);
}

TEST(FileSink, TemporaryFilesAreHiddenWhileWriting) {
  const ScratchDir dir("crowd-file-sink");
  ChunkSource source(sample_chunks());
  std::vector<std::string> seen;
  source.on_next = [&](std::size_t) {
    for (const auto& name : entries(dir.path)) seen.push_back(name);
  };
  ASSERT_TRUE(deliver_file(dir.path, sample_push(), source).delivered);
  ASSERT_FALSE(seen.empty());
  for (const auto& name : seen) {
    EXPECT_EQ(name.front(), '.') << name;
    EXPECT_TRUE(name.ends_with(".tmp")) << name;
  }
}

TEST(FileSink, DeliveringAgainRewritesTheSameTwoFiles) {
  const ScratchDir dir("crowd-file-sink");
  const PushInfo push = sample_push();
  const PushFileNames names = push_file_names(push);
  const int64_t created = *parse_utc_time("2026-12-07T05:21:50Z");
  ChunkSource source(sample_chunks());
  ASSERT_TRUE(deliver_file(dir.path, push, source, created).delivered);
  const std::string payload = read_file(dir.path + "/" + names.payload);
  const std::string manifest = read_file(dir.path + "/" + names.manifest);
  EXPECT_EQ(nlohmann::json::parse(manifest)["created"], "2026-12-07T05:21:50Z");

  // The source is left exhausted: a retry must restart it.
  const DeliveryOutcome again = deliver_file(dir.path, push, source, created);
  ASSERT_TRUE(again.delivered) << again.error;
  EXPECT_EQ(source.restarts, 2);
  EXPECT_EQ(read_file(dir.path + "/" + names.payload), payload);
  EXPECT_EQ(read_file(dir.path + "/" + names.manifest), manifest);
  const std::vector<std::string> both = {names.manifest, names.payload};  // as sorted
  EXPECT_EQ(entries(dir.path), both);
}

TEST(FileSink, AnyCrowdNameBecomesOneSafeFileNameComponent) {
  const ScratchDir dir("crowd-file-sink");
  PushInfo push = sample_push();
  push.crowd = "双11/预热";
  const PushFileNames names = push_file_names(push);
  EXPECT_EQ(names.payload,
            std::string("%E5%8F%8C11%2F%E9%A2%84%E7%83%AD.v0000000007.p0000000012.") + kPushId + ".ndjson");
  ChunkSource source({"x\n"});
  ASSERT_TRUE(deliver_file(dir.path, push, source).delivered);
  const std::vector<std::string> both = {names.manifest, names.payload};  // as sorted
  EXPECT_EQ(entries(dir.path), both);
  EXPECT_EQ(nlohmann::json::parse(read_file(dir.path + "/" + names.manifest))["crowd"], "双11/预热");

  // A leading '.' would hide the files from "*.manifest.json"; ".." and
  // spaces must not survive either.
  push.crowd = "..a b";
  EXPECT_TRUE(push_file_names(push).payload.starts_with("%2E.a%20b.v")) << push_file_names(push).payload;

  // A long name is cut between characters, never inside one.
  push.crowd.clear();
  for (int i = 0; i < 100; ++i) push.crowd += "预";
  const std::string stem = push_file_names(push).payload;
  const std::string crowd_part = stem.substr(0, stem.find(".v"));
  EXPECT_LE(crowd_part.size(), 128u);
  EXPECT_EQ(crowd_part.size() % 9, 0u) << "three %XX escapes per character";
  ChunkSource long_source({"x\n"});
  EXPECT_TRUE(deliver_file(dir.path, push, long_source).delivered);
}

TEST(FileSink, AMissingDirectoryIsCreatedButNotItsParents) {
  const ScratchDir dir("crowd-file-sink");
  const std::string fresh = dir.path + "/pushes";
  EXPECT_EQ(file_directory_problem(fresh), std::nullopt);
  EXPECT_TRUE(std::filesystem::is_directory(fresh));
  EXPECT_EQ(permissions(fresh), 0700u);
  EXPECT_TRUE(entries(fresh).empty()) << "the probe file is removed";

  const std::string other = dir.path + "/other/";
  ChunkSource source({"x\n"});
  EXPECT_TRUE(deliver_file(other, sample_push(), source).delivered);
  EXPECT_EQ(entries(other).size(), 2u);

  const auto problem = file_directory_problem(dir.path + "/no/such/parent");
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("No such file or directory"), std::string::npos) << *problem;
}

TEST(FileSink, ARegularFileIsNotADirectory) {
  const ScratchDir dir("crowd-file-sink");
  const std::string file = dir.path + "/plain";
  std::FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  const auto problem = file_directory_problem(file);
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("not a directory"), std::string::npos) << *problem;
  ChunkSource source({"x\n"});
  const DeliveryOutcome out = deliver_file(file, sample_push(), source);
  EXPECT_FALSE(out.delivered);
  EXPECT_NE(out.error.find("not a directory"), std::string::npos) << out.error;
  EXPECT_EQ(entries(dir.path), std::vector<std::string>{"plain"});
}

TEST(FileSink, ADirectoryWithoutWritePermissionIsRefused) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes whatever the mode says";
  const ScratchDir dir("crowd-file-sink");
  const std::string locked = dir.path + "/locked";
  ASSERT_EQ(::mkdir(locked.c_str(), 0500), 0);
  const auto problem = file_directory_problem(locked);
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("not writable"), std::string::npos) << *problem;
  ChunkSource source({"x\n"});
  const DeliveryOutcome out = deliver_file(locked, sample_push(), source);
  EXPECT_FALSE(out.delivered);
  EXPECT_NE(out.error.find("Permission denied"), std::string::npos) << out.error;
  EXPECT_TRUE(entries(locked).empty());
  ::chmod(locked.c_str(), 0700);  // so ScratchDir can remove it
}

TEST(FileSink, ADirectoryNoOneCanCreateFilesInIsRefusedEvenForRoot) {
  // procfs refuses new files to root too, so this runs where the mode test
  // above is skipped.
  if (!std::filesystem::is_directory("/proc/self")) GTEST_SKIP() << "no procfs";
  const auto problem = file_directory_problem("/proc");
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("not writable"), std::string::npos) << *problem;
  ChunkSource source({"x\n"});
  const DeliveryOutcome out = deliver_file("/proc", sample_push(), source);
  EXPECT_FALSE(out.delivered);
  EXPECT_NE(out.error.find("/proc/"), std::string::npos) << out.error;
  EXPECT_EQ(out.bytes, 0u);
}

TEST(FileSink, APayloadSourceThatFailsLeavesNoFiles) {
  const ScratchDir dir("crowd-file-sink");
  ChunkSource source(sample_chunks());
  source.on_next = [](std::size_t at) {
    if (at == 2) throw std::runtime_error("index went away");
  };
  EXPECT_THROW((void)deliver_file(dir.path, sample_push(), source), std::runtime_error);
  EXPECT_TRUE(entries(dir.path).empty());
}

TEST(FileSink, APushIdThatIsNotHexIsRefusedBeforeWriting) {
  const ScratchDir dir("crowd-file-sink");
  PushInfo push = sample_push();
  push.push_id = "../../../../tmp/escaped-push-id0";
  ChunkSource source({"x\n"});
  const DeliveryOutcome out = deliver_file(dir.path, push, source);
  EXPECT_FALSE(out.delivered);
  EXPECT_NE(out.error.find("push id"), std::string::npos) << out.error;
  EXPECT_TRUE(entries(dir.path).empty());
  push = sample_push();
  push.crowd.clear();
  EXPECT_FALSE(deliver_file(dir.path, push, source).delivered);
  EXPECT_TRUE(entries(dir.path).empty());
}

}  // namespace
}  // namespace crowd::activation
