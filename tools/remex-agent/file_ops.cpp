#include "tools/remex-agent/file_ops.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "protocol/partial_files.hpp"

namespace remex::agent {

namespace {

using protocol::file_op_code;
using protocol::file_op_request;
using protocol::file_op_response;

constexpr std::int64_t ns_per_s = 1000000000;

std::int64_t to_ns(const timespec& ts) {
  return static_cast<std::int64_t>(ts.tv_sec) * ns_per_s + ts.tv_nsec;
}

timespec from_ns(std::int64_t ns) {
  // Floor division, so times before 1970 get a nanosecond part in 0..1e9.
  auto sec = ns / ns_per_s;
  auto rem = ns % ns_per_s;
  if (rem < 0) {
    rem += ns_per_s;
    --sec;
  }
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(sec);
  ts.tv_nsec = static_cast<long>(rem);
  return ts;
}

// The last element of a path, like basename(1): "/a/b/" → "b", "/" → "/".
std::string base_name(const std::string& p) {
  if (p.empty()) return ".";
  auto end = p.find_last_not_of('/');
  if (end == std::string::npos) return "/";
  auto start = p.rfind('/', end);
  return p.substr(start == std::string::npos ? 0 : start + 1,
                  end - (start == std::string::npos ? 0 : start + 1) + 1);
}

// Go os.FileMode's bits beyond the permissions, as the seed's clients use
// them in `mo` and read them in stat `m`.
constexpr std::uint32_t go_dir = 1u << 31, go_symlink = 1u << 27,
                        go_device = 1u << 26, go_named_pipe = 1u << 25,
                        go_socket = 1u << 24, go_setuid = 1u << 23,
                        go_setgid = 1u << 22, go_char_device = 1u << 21,
                        go_sticky = 1u << 20;

// Permission bits from `mo`. Unix bits are taken as they are; a peer that
// writes a Go os.FileMode carries setuid, setgid and sticky in high bits
// that no Unix mode uses, so those are honoured too.
mode_t unix_mode(std::uint32_t mo) {
  mode_t m = mo & 07777;
  if (mo & go_setuid) m |= S_ISUID;
  if (mo & go_setgid) m |= S_ISGID;
  if (mo & go_sticky) m |= S_ISVTX;
  return m;
}

const char* op_name(std::uint32_t op) {
  static const char* const names[] = {
      "?",        "open",     "create", "openfile", "close",   "readat",
      "writeat",  "stat",     "lstat",  "readdir",  "mkdir",   "mkdirall",
      "remove",   "rename",   "chmod",  "truncate", "getwd",   "fsync",
      "readlink", "symlink",  "link",   "chown",    "chtimes", "statfs",
      "fstat",    "ftruncate"};
  return op < sizeof names / sizeof names[0] ? names[op] : "?";
}

// Fills er/em from errno: "stat /x: No such file or directory".
void fail(file_op_response& r, const file_op_request& req, int err) {
  r.er = err;
  r.em = op_name(req.op);
  if (!req.p.empty()) r.em += " " + req.p;
  if (!req.np.empty()) r.em += " " + req.np;
  r.em += ": ";
  r.em += std::strerror(err);
}

// mkdir -p: every missing parent, then the directory itself. A path that
// exists as a directory is success; one that exists as anything else is not.
int mkdir_all(const std::string& p, mode_t mode) {
  struct stat st;
  if (::stat(p.c_str(), &st) == 0) return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  auto end = p.find_last_not_of('/');
  if (end != std::string::npos) {
    auto slash = p.rfind('/', end);
    if (slash != std::string::npos && slash > 0) {
      if (int e = mkdir_all(p.substr(0, slash), mode)) return e;
    }
  }
  if (::mkdir(p.c_str(), mode) == 0) return 0;
  int e = errno;
  // Someone else made it meanwhile (or a trailing "." / ".."): fine if it
  // is a directory now.
  if (::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return 0;
  return e;
}

int read_link(const std::string& p, std::string& out) {
  std::vector<char> buf(256);
  for (;;) {
    auto n = ::readlink(p.c_str(), buf.data(), buf.size());
    if (n < 0) return errno;
    if (static_cast<std::size_t>(n) < buf.size()) {
      out.assign(buf.data(), static_cast<std::size_t>(n));
      return 0;
    }
    if (buf.size() >= (1u << 20)) return ENAMETOOLONG;
    buf.resize(buf.size() * 4);
  }
}

// The directory's entries, sorted by name (the order a client would show),
// "." and ".." left out.
int list_dir(DIR* d, std::vector<std::string>& names) {
  errno = 0;
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  int err = errno;
  std::sort(names.begin(), names.end());
  return err;
}

}  // namespace

std::uint32_t go_file_mode(mode_t mode) {
  std::uint32_t m = mode & 0777;
  switch (mode & S_IFMT) {
    case S_IFDIR:
      m |= go_dir;
      break;
    case S_IFLNK:
      m |= go_symlink;
      break;
    case S_IFIFO:
      m |= go_named_pipe;
      break;
    case S_IFSOCK:
      m |= go_socket;
      break;
    case S_IFBLK:
      m |= go_device;
      break;
    case S_IFCHR:
      m |= go_device | go_char_device;
      break;
    default:  // a regular file has no type bit
      break;
  }
  if (mode & S_ISUID) m |= go_setuid;
  if (mode & S_ISGID) m |= go_setgid;
  if (mode & S_ISVTX) m |= go_sticky;
  return m;
}

protocol::stat_info make_stat_info(const struct stat& st, std::string name) {
  protocol::stat_info s;
  s.n = std::move(name);
  s.s = static_cast<std::int64_t>(st.st_size);
  s.m = go_file_mode(st.st_mode);
  s.t = to_ns(st.st_mtim);
  s.at = to_ns(st.st_atim);
  s.ct = to_ns(st.st_ctim);
  s.uid = st.st_uid;
  s.gid = st.st_gid;
  s.nl = static_cast<std::uint64_t>(st.st_nlink);
  s.rd = static_cast<std::uint64_t>(st.st_rdev);
  s.bl = static_cast<std::int64_t>(st.st_blocks);
  s.bs = static_cast<std::int64_t>(st.st_blksize);
  s.ino = static_cast<std::uint64_t>(st.st_ino);
  s.d = S_ISDIR(st.st_mode);
  return s;
}

file_ops::~file_ops() {
  remove_partial_files();
}

void file_ops::remove_partial_files() {
  for (auto& [h, f] : handles_) ::close(f.fd);
  handles_.clear();
  for (auto& p : partials_) {
    struct stat st;
    if (::lstat(p.path.c_str(), &st) == 0 && st.st_dev == p.dev &&
        st.st_ino == p.ino)
      ::unlink(p.path.c_str());
  }
  partials_.clear();
}

void file_ops::forget_partial(const std::string& path) {
  partials_.erase(std::remove_if(partials_.begin(), partials_.end(),
                                 [&](auto& p) { return p.path == path; }),
                  partials_.end());
}

file_ops::open_file* file_ops::find(std::uint64_t h) {
  auto i = handles_.find(h);
  return i == handles_.end() ? nullptr : &i->second;
}

file_op_response file_ops::open(const file_op_request& req, int flags,
                                unsigned mode) {
  file_op_response r;
  r.id = req.id;
  // Opening a FIFO would wait for its other end and stall every stream of
  // the session; non-blocking, it fails or returns at once instead. Files
  // do not care, and the flag is dropped again unless the peer asked for it.
  int fd;
  do fd = ::open(req.p.c_str(), flags | O_CLOEXEC | O_NONBLOCK, mode);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    fail(r, req, errno);
    return r;
  }
  if (!(flags & O_NONBLOCK))
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  r.h = next_handle_++;
  handles_[r.h] = open_file{fd, req.p};
  struct stat st;
  if ((flags & O_CREAT) && (flags & O_EXCL) &&
      protocol::is_partial_name(req.p) && ::fstat(fd, &st) == 0)
    partials_.push_back({req.p, st.st_dev, st.st_ino});
  return r;
}

protocol::frame file_ops::answer(const protocol::frame& f) {
  static const file_op_request none;
  protocol::frame r;
  r.t = protocol::frame_type::file_resp;
  // By reference: a writeat carries up to a megabyte.
  r.frp = handle(f.fop ? *f.fop : none);
  return r;
}

file_op_response file_ops::handle(const file_op_request& req) {
  file_op_response r;
  r.id = req.id;
  auto check = [&](int rc) {
    if (rc != 0) fail(r, req, errno);
  };
  auto with_handle = [&](auto&& f) {
    auto* of = find(req.h);
    if (!of) {
      r.er = EBADF;
      r.em = std::string(op_name(req.op)) + ": no open file with handle " +
             std::to_string(req.h);
      return;
    }
    f(*of);
  };
  struct stat st;
  switch (static_cast<file_op_code>(req.op)) {
    case file_op_code::open:
      return open(req, O_RDONLY, 0);
    case file_op_code::create:
      // Like os.Create: read-write, truncated, 0666 before the umask unless
      // the peer asks for a mode.
      return open(req, O_RDWR | O_CREAT | O_TRUNC,
                  req.mo ? unix_mode(req.mo) : 0666);
    case file_op_code::openfile:
      // Open flags are the peer's Linux O_* values (Go's os.O_* are those).
      return open(req, static_cast<int>(req.fl), unix_mode(req.mo));
    case file_op_code::close:
      with_handle([&](open_file& f) {
        // The descriptor is gone even when close reports an error.
        check(::close(f.fd));
        handles_.erase(req.h);
      });
      break;
    case file_op_code::readat:
      with_handle([&](open_file& f) {
        if (req.sz <= 0) return;  // nothing asked: an empty success
        if (req.of < 0) return fail(r, req, EINVAL);
        auto want = std::min<std::uint64_t>(static_cast<std::uint64_t>(req.sz),
                                            max_read_size);
        r.d.resize(want);
        std::size_t got = 0;
        while (got < want) {
          auto n = ::pread(f.fd, &r.d[got], want - got,
                           req.of + static_cast<off_t>(got));
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) {
            int e = errno;
            r.d.clear();
            return fail(r, req, e);
          }
          if (n == 0) {
            r.eof = true;  // the file ends before the request does
            break;
          }
          got += static_cast<std::size_t>(n);
        }
        r.d.resize(got);
        r.n = static_cast<std::int64_t>(got);
      });
      break;
    case file_op_code::writeat:
      with_handle([&](open_file& f) {
        // A negative offset writes at the file's position, so an O_APPEND
        // handle appends (what the seed's clients do for Write).
        std::size_t done = 0;
        while (done < req.d.size()) {
          auto* p = req.d.data() + done;
          auto left = req.d.size() - done;
          auto n = req.of < 0 ? ::write(f.fd, p, left)
                              : ::pwrite(f.fd, p, left,
                                         req.of + static_cast<off_t>(done));
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) {
            fail(r, req, errno);
            break;
          }
          done += static_cast<std::size_t>(n);
        }
        // On a failure part way, n still says how much was written.
        r.n = static_cast<std::int64_t>(done);
      });
      break;
    case file_op_code::stat:
    case file_op_code::lstat: {
      bool follow = req.op == static_cast<std::uint32_t>(file_op_code::stat);
      if ((follow ? ::stat(req.p.c_str(), &st) : ::lstat(req.p.c_str(), &st)) !=
          0)
        fail(r, req, errno);
      else
        r.st = make_stat_info(st, base_name(req.p));
      break;
    }
    case file_op_code::fstat:
      with_handle([&](open_file& f) {
        if (::fstat(f.fd, &st) != 0)
          fail(r, req, errno);
        else
          r.st = make_stat_info(st, base_name(f.name));
      });
      break;
    case file_op_code::readdir: {
      // The directory is `p`, or the open directory `h` when p is empty.
      std::string dir = req.p;
      DIR* d = nullptr;
      if (dir.empty() && req.h != 0) {
        auto* of = find(req.h);
        if (!of) {
          r.er = EBADF;
          r.em = "readdir: no open file with handle " + std::to_string(req.h);
          break;
        }
        dir = of->name;
        int fd = ::openat(of->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        d = fd >= 0 ? ::fdopendir(fd) : nullptr;
        if (!d && fd >= 0) ::close(fd);
      } else {
        d = ::opendir(dir.c_str());
      }
      if (!d) {
        fail(r, req, errno);
        break;
      }
      std::vector<std::string> names;
      int err = list_dir(d, names);
      int dfd = ::dirfd(d);
      if (err != 0) {
        ::closedir(d);
        fail(r, req, err);
        break;
      }
      // Without `sz`, every entry from `of` on, in one response: a client
      // that does not page never loses entries. With `sz`, a page of at
      // most sz entries (and at most max_dir_entries, ~512 KiB of them).
      auto start = static_cast<std::size_t>(std::max<std::int64_t>(req.of, 0));
      bool paged = req.sz > 0;
      auto limit = names.size();
      if (paged)
        limit = std::min<std::size_t>(max_dir_entries,
                                      static_cast<std::uint64_t>(req.sz));
      std::size_t budget = paged ? 512 * 1024 : SIZE_MAX;
      std::size_t i = start;
      for (; i < names.size() && r.en.size() < limit; ++i) {
        auto cost = names[i].size() + 160;
        if (cost > budget) break;
        budget -= cost;
        struct stat est;
        // Entries describe themselves, not what a symlink points to.
        if (::fstatat(dfd, names[i].c_str(), &est, AT_SYMLINK_NOFOLLOW) == 0)
          r.en.push_back(make_stat_info(est, names[i]));
        else {
          protocol::stat_info gone;  // removed meanwhile: the name only
          gone.n = names[i];
          r.en.push_back(std::move(gone));
        }
      }
      ::closedir(d);
      r.n = static_cast<std::int64_t>(r.en.size());
      r.eof = i >= names.size();
      break;
    }
    case file_op_code::mkdir:
      check(::mkdir(req.p.c_str(), unix_mode(req.mo)));
      break;
    case file_op_code::mkdirall:
      if (int e = mkdir_all(req.p, unix_mode(req.mo))) fail(r, req, e);
      break;
    case file_op_code::remove:
      // A file or an empty directory, like os.Remove: unlink first; if that
      // fails, rmdir; the rmdir error wins unless the path is no directory.
      if (::unlink(req.p.c_str()) != 0) {
        int e = errno;
        if (::rmdir(req.p.c_str()) != 0) {
          if (errno != ENOTDIR) e = errno;
          fail(r, req, e);
        }
      }
      if (r.er == 0) forget_partial(req.p);
      break;
    case file_op_code::rename:
      check(::rename(req.p.c_str(), req.np.c_str()));
      // Renamed into place: the copy is complete.
      if (r.er == 0) forget_partial(req.p);
      break;
    case file_op_code::chmod:
      check(::chmod(req.p.c_str(), unix_mode(req.mo)));
      break;
    case file_op_code::truncate:
      check(::truncate(req.p.c_str(), static_cast<off_t>(req.sz)));
      break;
    case file_op_code::ftruncate:
      with_handle([&](open_file& f) {
        check(::ftruncate(f.fd, static_cast<off_t>(req.sz)));
      });
      break;
    case file_op_code::getwd: {
      std::vector<char> buf(4096);
      while (!::getcwd(buf.data(), buf.size())) {
        if (errno != ERANGE || buf.size() >= (1u << 20)) {
          fail(r, req, errno);
          break;
        }
        buf.resize(buf.size() * 4);
      }
      if (r.er == 0) r.p = buf.data();
      break;
    }
    case file_op_code::fsync:
      with_handle([&](open_file& f) { check(::fsync(f.fd)); });
      break;
    case file_op_code::readlink:
      if (int e = read_link(req.p, r.p)) fail(r, req, e);
      break;
    case file_op_code::symlink:
      // p is the target the link points to, np the link: os.Symlink(p, np).
      check(::symlink(req.p.c_str(), req.np.c_str()));
      break;
    case file_op_code::link:
      check(::link(req.p.c_str(), req.np.c_str()));
      break;
    case file_op_code::chown:
      // -1 leaves the owner or group as it is.
      check(::chown(req.p.c_str(), static_cast<uid_t>(req.uid),
                    static_cast<gid_t>(req.gid)));
      break;
    case file_op_code::chtimes: {
      timespec times[2] = {from_ns(req.at), from_ns(req.mt)};
      check(::utimensat(AT_FDCWD, req.p.c_str(), times, 0));
      break;
    }
    case file_op_code::statfs: {
      struct statfs sf;
      if (::statfs(req.p.c_str(), &sf) != 0) {
        fail(r, req, errno);
        break;
      }
      protocol::statfs_info i;
      i.b = sf.f_blocks;
      i.bf = sf.f_bfree;
      i.ba = sf.f_bavail;
      i.f = sf.f_files;
      i.ff = sf.f_ffree;
      i.bs = static_cast<std::int64_t>(sf.f_bsize);
      i.fr = static_cast<std::int64_t>(sf.f_frsize);
      i.nl = static_cast<std::int64_t>(sf.f_namelen);
      r.sf = i;
      break;
    }
    default:
      r.er = ENOSYS;
      r.em = "unknown file operation " + std::to_string(req.op);
  }
  return r;
}

}  // namespace remex::agent
