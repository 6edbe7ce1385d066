// File: a move-only owner of a POSIX file descriptor for the snapshot and log
// code, whose every failure is a message naming the path and the call.
//
// Plain syscalls rather than iostreams because durability needs what streams
// hide: fdatasync, ftruncate, positioned writes, and the exact errno (ENOSPC
// must say "no space left", not "stream bad").
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace crowd {

class File {
 public:
  File() = default;
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // open(2) with O_CLOEXEC added. On failure `error` says which file and why.
  [[nodiscard]] static bool open(const std::string& path, int flags, mode_t mode, File& out, std::string& error);

  [[nodiscard]] bool is_open() const { return fd_ >= 0; }
  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] const std::string& path() const { return path_; }

  // Writes all of `data` at the current position / at `offset`, retrying
  // short writes and EINTR. On failure some bytes may have been written.
  [[nodiscard]] bool write_all(std::string_view data, std::string& error);
  [[nodiscard]] bool pwrite_all(std::string_view data, uint64_t offset, std::string& error);
  // Reads exactly `n` bytes at `offset`; a file that ends first is an error
  // saying where it ended.
  [[nodiscard]] bool pread_exact(char* out, std::size_t n, uint64_t offset, std::string& error) const;
  // fdatasync(2): the data and the metadata needed to read it (the size).
  [[nodiscard]] bool datasync(std::string& error) const;
  [[nodiscard]] bool truncate(uint64_t size, std::string& error) const;
  [[nodiscard]] bool size(uint64_t& out, std::string& error) const;
  // Closes, reporting close(2)'s error (the destructor ignores it).
  [[nodiscard]] bool close(std::string& error);

 private:
  int fd_ = -1;
  std::string path_;
};

// fsync(2) on a directory, making the creation, renaming or removal of its
// entries durable.
[[nodiscard]] bool sync_directory(const std::string& dir, std::string& error);

// "<path>: <what>: <strerror(err)>".
[[nodiscard]] std::string io_error_message(std::string_view path, std::string_view what, int err);

}  // namespace crowd
