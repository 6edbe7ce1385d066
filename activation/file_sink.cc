#include "activation/file_sink.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "activation/schedule.h"
#include "identity/digest.h"
#include "index/posix_file.h"

namespace crowd::activation {
namespace {

constexpr mode_t kFileMode = 0640;
constexpr mode_t kDirectoryMode = 0700;
// 128 + ".v" + 10 + "." + 32 + ".manifest.json" + the temporary ".",
// ".<16 hex>.tmp" stays well under NAME_MAX (255).
constexpr std::size_t kMaxCrowdComponent = 128;
constexpr std::size_t kPushIdLength = 32;

// 16 hex characters from libcrypto's generator, so two writers (two
// servers sharing a directory, or two attempts racing) never pick the same
// temporary name; "" if it has no randomness to give.
std::string random_hex() {
  std::array<uint8_t, 8> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return {};
  std::string hex;
  identity::append_hex(bytes, hex);
  return hex;
}

// SHA-256 of bytes fed a chunk at a time (identity/digest.h hashes one
// string whole; a payload is never held whole).
class StreamingSha256 {
 public:
  StreamingSha256() : ctx_(EVP_MD_CTX_new()) {
    ok_ = ctx_ != nullptr && EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) == 1;
  }
  ~StreamingSha256() { EVP_MD_CTX_free(ctx_); }
  StreamingSha256(const StreamingSha256&) = delete;
  StreamingSha256& operator=(const StreamingSha256&) = delete;

  void update(std::string_view bytes) {
    if (ok_) ok_ = EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()) == 1;
  }

  // Lower-case hex of everything fed; false if libcrypto failed on the way.
  [[nodiscard]] bool finish(std::string& hex) {
    std::array<uint8_t, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (!ok_ || EVP_DigestFinal_ex(ctx_, digest.data(), &length) != 1) return false;
    hex.clear();
    identity::append_hex(std::span<const uint8_t>(digest.data(), length), hex);
    return true;
  }

 private:
  EVP_MD_CTX* ctx_;
  bool ok_ = false;
};

// A file written under a hidden temporary name and renamed to its final
// name once its bytes are on disk. Removed if never renamed, whether the
// writer returned an error or the payload source threw.
class StagedFile {
 public:
  StagedFile(const std::string& directory, const std::string& final_name)
      : final_path_(directory + "/" + final_name), temp_path_(directory + "/." + final_name + ".") {}
  ~StagedFile() {
    if (created_) ::unlink(temp_path_.c_str());
  }
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;

  [[nodiscard]] bool create(std::string& error) {
    const std::string suffix = random_hex();
    if (suffix.empty()) {
      error = final_path_ + ": no randomness for a temporary name (RAND_bytes failed)";
      return false;
    }
    temp_path_ += suffix + ".tmp";
    if (!File::open(temp_path_, O_WRONLY | O_CREAT | O_EXCL, kFileMode, file_, error)) return false;
    created_ = true;
    // open(2) applied the umask; the uploader reads through the group.
    if (::fchmod(file_.fd(), kFileMode) != 0) {
      error = io_error_message(temp_path_, "chmod", errno);
      return false;
    }
    return true;
  }

  [[nodiscard]] bool write(std::string_view bytes, std::string& error) { return file_.write_all(bytes, error); }

  // fdatasync covers the bytes and the size, all a new file needs; the
  // rename itself is made durable by the caller's directory sync.
  [[nodiscard]] bool commit(std::string& error) {
    if (!file_.datasync(error) || !file_.close(error)) return false;
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
      error = io_error_message(temp_path_, "rename to " + final_path_, errno);
      return false;
    }
    created_ = false;
    return true;
  }

 private:
  std::string final_path_;
  std::string temp_path_;
  File file_;
  bool created_ = false;
};

// The directory that holds `path` ("." for a bare name).
std::string parent_directory(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The directory exists (created, mode 0700, if only its last component was
// missing) and is a directory; else why not.
std::optional<std::string> ensure_directory(const std::string& directory) {
  if (directory.empty()) return std::string("no directory given for file pushes");
  struct stat st {};
  if (::stat(directory.c_str(), &st) != 0) {
    if (errno != ENOENT) return io_error_message(directory, "stat", errno);
    if (::mkdir(directory.c_str(), kDirectoryMode) == 0) {
      // The new entry must survive a crash like the pushes written into it.
      std::string error;
      if (!sync_directory(parent_directory(directory), error)) return error;
      return std::nullopt;
    }
    // EEXIST: created meanwhile by someone else (or a dangling symlink), so
    // look again, once.
    if (errno != EEXIST) return io_error_message(directory, "create directory", errno);
    if (::stat(directory.c_str(), &st) != 0) return io_error_message(directory, "stat", errno);
  }
  if (!S_ISDIR(st.st_mode)) return directory + ": not a directory";
  return std::nullopt;
}

bool is_push_id(std::string_view id) {
  if (id.size() != kPushIdLength) return false;
  for (const char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool is_safe_name_byte(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// The crowd name as one file name component (see push_file_names).
std::string encoded_crowd(std::string_view crowd) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  std::size_t character_start = 0;  // where the current UTF-8 character's encoding began
  for (std::size_t i = 0; i < crowd.size(); ++i) {
    const auto c = static_cast<unsigned char>(crowd[i]);
    const bool continuation = (c & 0xC0) == 0x80;
    if (!continuation) character_start = out.size();
    if (is_safe_name_byte(c) && !(i == 0 && c == '.')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
    if (out.size() > kMaxCrowdComponent) {
      out.resize(character_start);
      break;
    }
  }
  return out;
}

std::string manifest_text(const PushInfo& push, const PushFileNames& names, uint64_t bytes, const std::string& sha256,
                          int64_t created) {
  nlohmann::ordered_json m;
  m["push_id"] = push.push_id;
  m["crowd"] = push.crowd;
  m["destination"] = push.destination;
  m["mode"] = push.full ? "full" : "delta";
  m["seq"] = push.seq;
  m["version"] = push.version;
  m["base_version"] = push.base_version;
  m["format"] = format_name(push.format);
  m["adds"] = push.adds;
  m["removes"] = push.removes;
  m["bytes"] = bytes;
  m["sha256"] = sha256;
  m["payload"] = names.payload;
  m["created"] = format_utc_time(created);
  // replace: a name that is not valid UTF-8 must not throw halfway through
  // a delivery; U+FFFD marks the bad bytes instead.
  return m.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

DeliveryOutcome failed(DeliveryOutcome out, std::string error) {
  out.delivered = false;
  out.bytes = 0;
  out.sha256.clear();
  out.error = std::move(error);
  return out;
}

}  // namespace

std::optional<std::string> file_directory_problem(const std::string& directory) {
  if (auto problem = ensure_directory(directory)) return problem;
  const std::string probe = directory + "/.crowd-probe." + random_hex() + ".tmp";
  File file;
  std::string error;
  if (!File::open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600, file, error)) {
    return directory + ": not writable (" + error + ")";
  }
  if (::unlink(probe.c_str()) != 0) {
    return directory + ": not writable (" + io_error_message(probe, "remove", errno) + ")";
  }
  return std::nullopt;
}

PushFileNames push_file_names(const PushInfo& push) {
  char numbers[64];
  std::snprintf(numbers, sizeof numbers, ".v%010llu.p%010llu.", static_cast<unsigned long long>(push.version),
                static_cast<unsigned long long>(push.seq));
  const std::string stem = encoded_crowd(push.crowd) + numbers + push.push_id;
  return {stem + "." + format_name(push.format), stem + ".manifest.json"};
}

DeliveryOutcome deliver_file(const std::string& directory, const PushInfo& push, PayloadSource& payload) {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  return deliver_file(directory, push, payload, now.time_since_epoch().count());
}

DeliveryOutcome deliver_file(const std::string& directory, const PushInfo& push, PayloadSource& payload,
                             int64_t created_unix_seconds) {
  DeliveryOutcome out;
  out.attempts = 1;
  if (!is_push_id(push.push_id)) return failed(out, "push id is not 32 lower-case hex characters");
  if (push.crowd.empty()) return failed(out, "crowd name is empty");
  if (auto problem = ensure_directory(directory)) return failed(out, *problem);

  const PushFileNames names = push_file_names(push);
  std::string error;
  StagedFile payload_file(directory, names.payload);
  if (!payload_file.create(error)) return failed(out, error);
  StreamingSha256 digest;
  uint64_t bytes = 0;
  payload.restart();
  std::string chunk;
  while (payload.next(chunk)) {
    if (!payload_file.write(chunk, error)) return failed(out, error);
    digest.update(chunk);
    bytes += chunk.size();
  }
  std::string sha256;
  if (!digest.finish(sha256)) return failed(out, "libcrypto failed to compute the payload's SHA-256");
  if (!payload_file.commit(error)) return failed(out, error);

  StagedFile manifest_file(directory, names.manifest);
  if (!manifest_file.create(error) ||
      !manifest_file.write(manifest_text(push, names, bytes, sha256, created_unix_seconds), error) ||
      !manifest_file.commit(error)) {
    return failed(out, error);
  }
  if (!sync_directory(directory, error)) return failed(out, error);

  out.delivered = true;
  out.bytes = bytes;
  out.sha256 = std::move(sha256);
  return out;
}

}  // namespace crowd::activation
