// powercut_shim: an LD_PRELOAD library that records what crowdd made durable,
// so a test can throw away everything else after a SIGKILL and so simulate a
// power cut (tests/fault/powercut.py does both).
//
// A SIGKILL loses nothing that write(2) handed to the kernel: the page cache
// survives it. A power cut keeps only what fsync/fdatasync wrote out, and of a
// directory only the entries an fsync of the directory made durable. This
// shim wraps fsync(2) and fdatasync(2) and, after each one that succeeds on a
// file or directory under $CROWD_POWERCUT_DIR, appends a line to the journal
// $CROWD_POWERCUT_JOURNAL before returning to the caller (so every sync whose
// return crowdd acted on, e.g. by acknowledging a write, is in the journal):
//
//   F <dev> <ino> <size>             a file's data up to <size> is durable
//   D <dev> <ino> <name> ... <name>  after a directory sync: its durable entries,
//                                    each "<name>/<ino>"
//
// Keyed by inode, so a file synced under a temporary name and renamed keeps
// its synced size. rename(2) over an existing file in the directory first
// hard-links the file being replaced to "<name>.powercut-prev-<ino>": if the
// rename never becomes durable, the cut puts that file back, as a real power
// cut would. The journal is opened with O_APPEND and written with one
// write(2) per line (lines are short; PIPE_BUF-sized writes are not torn
// between the process's threads; O_APPEND places each write whole).
//
// Not modelled: overwrites inside an already synced range are kept even if
// not synced again (crowd syncs its one such write, a segment's start block,
// right away); an unlink not followed by a directory sync is kept (a real
// cut might bring the file back; crowd deletes only files recovery ignores or
// removes again).
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_rename)(const char*, const char*);

// The path of `fd` if it is under $CROWD_POWERCUT_DIR (that directory
// included), else NULL. `buf` holds PATH_MAX bytes.
static const char* watched_path(int fd, char* buf) {
  const char* dir = getenv("CROWD_POWERCUT_DIR");
  if (dir == NULL || *dir == '\0') return NULL;
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, buf, PATH_MAX - 1);
  if (n <= 0) return NULL;
  buf[n] = '\0';
  const size_t len = strlen(dir);
  if (strncmp(buf, dir, len) != 0 || (buf[len] != '\0' && buf[len] != '/')) return NULL;
  return buf;
}

static void journal(const char* line, size_t n) {
  const char* path = getenv("CROWD_POWERCUT_JOURNAL");
  if (path == NULL) return;
  const int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  ssize_t ignored = write(fd, line, n);
  (void)ignored;
  close(fd);
}

static void record(int fd) {
  char path[PATH_MAX];
  if (watched_path(fd, path) == NULL) return;
  struct stat st;
  if (fstat(fd, &st) != 0) return;
  if (S_ISREG(st.st_mode)) {
    char line[128];
    const int n = snprintf(line, sizeof line, "F %llu %llu %lld\n", (unsigned long long)st.st_dev,
                           (unsigned long long)st.st_ino, (long long)st.st_size);
    journal(line, (size_t)n);
    return;
  }
  if (!S_ISDIR(st.st_mode)) return;
  // A directory: list what its sync made durable.
  DIR* d = opendir(path);
  if (d == NULL) return;
  size_t cap = 4096, len = 0;
  char* line = malloc(cap);
  if (line == NULL) {
    closedir(d);
    return;
  }
  len = (size_t)snprintf(line, cap, "D %llu %llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
  for (struct dirent* e; (e = readdir(d)) != NULL;) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    const size_t need = strlen(e->d_name) + 32;
    if (len + need + 2 > cap) {
      cap = (cap + need) * 2;
      char* bigger = realloc(line, cap);
      if (bigger == NULL) break;
      line = bigger;
    }
    len += (size_t)snprintf(line + len, cap - len, " %s/%llu", e->d_name, (unsigned long long)e->d_ino);
  }
  closedir(d);
  line[len++] = '\n';
  journal(line, len);
  free(line);
}

static int watched_name(const char* path) {
  const char* dir = getenv("CROWD_POWERCUT_DIR");
  if (dir == NULL || *dir == '\0') return 0;
  const size_t len = strlen(dir);
  return strncmp(path, dir, len) == 0 && path[len] == '/';
}

int rename(const char* from, const char* to) {
  if (real_rename == NULL) real_rename = (int (*)(const char*, const char*))dlsym(RTLD_NEXT, "rename");
  struct stat st;
  if (watched_name(to) && lstat(to, &st) == 0 && S_ISREG(st.st_mode)) {
    char keep[PATH_MAX];
    snprintf(keep, sizeof keep, "%s.powercut-prev-%llu", to, (unsigned long long)st.st_ino);
    if (link(to, keep) != 0) {
      // Keeping the old file is what makes the cut faithful; without it the
      // run would measure something else.
      abort();
    }
  }
  return real_rename(from, to);
}

int fsync(int fd) {
  if (real_fsync == NULL) real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  const int rc = real_fsync(fd);
  if (rc == 0) record(fd);
  return rc;
}

int fdatasync(int fd) {
  if (real_fdatasync == NULL) real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  const int rc = real_fdatasync(fd);
  if (rc == 0) record(fd);
  return rc;
}
