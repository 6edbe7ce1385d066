#include "index/posix_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace crowd {

std::string io_error_message(std::string_view path, std::string_view what, int err) {
  std::string m(path);
  m += ": ";
  m += what;
  m += ": ";
  m += std::strerror(err);
  return m;
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

File::File(File&& other) noexcept : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

bool File::open(const std::string& path, int flags, mode_t mode, File& out, std::string& error) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    error = io_error_message(path, "open", errno);
    return false;
  }
  out = File();
  out.fd_ = fd;
  out.path_ = path;
  return true;
}

bool File::write_all(std::string_view data, std::string& error) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      error = io_error_message(path_, "write", errno);
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool File::pwrite_all(std::string_view data, uint64_t offset, std::string& error) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      error = io_error_message(path_, "write at offset " + std::to_string(offset), errno);
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

bool File::pread_exact(char* out, std::size_t n, uint64_t offset, std::string& error) const {
  while (n > 0) {
    const ssize_t got = ::pread(fd_, out, n, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      error = io_error_message(path_, "read at offset " + std::to_string(offset), errno);
      return false;
    }
    if (got == 0) {
      error =
          path_ + ": file ends at offset " + std::to_string(offset) + ", " + std::to_string(n) + " more bytes expected";
      return false;
    }
    out += got;
    n -= static_cast<std::size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return true;
}

bool File::datasync(std::string& error) const {
  if (::fdatasync(fd_) != 0) {
    error = io_error_message(path_, "fdatasync", errno);
    return false;
  }
  return true;
}

bool File::truncate(uint64_t size, std::string& error) const {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    error = io_error_message(path_, "truncate to " + std::to_string(size) + " bytes", errno);
    return false;
  }
  return true;
}

bool File::size(uint64_t& out, std::string& error) const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    error = io_error_message(path_, "fstat", errno);
    return false;
  }
  out = static_cast<uint64_t>(st.st_size);
  return true;
}

bool File::close(std::string& error) {
  if (fd_ < 0) return true;
  const int rc = ::close(std::exchange(fd_, -1));
  // EINTR from close(2) on Linux still closes the descriptor; nothing to retry.
  if (rc != 0 && errno != EINTR) {
    error = io_error_message(path_, "close", errno);
    return false;
  }
  return true;
}

bool sync_directory(const std::string& dir, std::string& error) {
  File d;
  if (!File::open(dir, O_RDONLY | O_DIRECTORY, 0, d, error)) return false;
  if (::fsync(d.fd()) != 0) {
    error = io_error_message(dir, "fsync (directory)", errno);
    return false;
  }
  return true;
}

}  // namespace crowd
