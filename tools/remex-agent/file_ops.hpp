// The file operations of a file session (`file-op` → `file-resp`): the
// remote side of a remote file system. Operations mirror the POSIX calls
// their names say; open files are reached through handles the agent hands
// out, never raw descriptors, so a peer cannot touch the agent's own stdin,
// stdout or the child's pipes.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "protocol/frame.hpp"

namespace remex::agent {

// Most bytes one readat returns: the largest data chunk, so the response
// stays within the frame limits of both sides.
constexpr std::size_t max_read_size = 1024 * 1024;
// Most entries one page of readdir (`sz` > 0) returns; `of` pages through
// larger directories and `eof` says the listing is complete. Without `sz`
// a readdir returns the whole directory.
constexpr std::size_t max_dir_entries = 4096;

class file_ops {
 public:
  file_ops() = default;
  ~file_ops();
  file_ops(const file_ops&) = delete;
  file_ops& operator=(const file_ops&) = delete;

  // Performs one request and says how it went; er = errno (0 = ok).
  protocol::file_op_response handle(const protocol::file_op_request& req);
  // The file-resp frame answering a file-op frame (no `fop`: the zero
  // request).
  protocol::frame answer(const protocol::frame& f);

  std::size_t open_handles() const { return handles_.size(); }

 private:
  // Removes the partial files of copies that did not finish: a file with a
  // partial name (protocol/partial_files.hpp) that this session created
  // exclusively (O_CREAT|O_EXCL) and neither renamed nor removed. The
  // session is over, however it ended: the agent's file_ops goes when main
  // returns.
  void remove_partial_files();

  struct open_file {
    int fd = -1;
    std::string name;  // the path it was opened by (fstat's `n`)
  };
  // A partial file this session created; identified by device and inode
  // too, so that whatever took its name since is left alone.
  struct partial_file {
    std::string path;
    dev_t dev;
    ino_t ino;
  };

  protocol::file_op_response open(const protocol::file_op_request& req,
                                  int flags, unsigned mode);
  open_file* find(std::uint64_t h);

  void forget_partial(const std::string& path);

  std::map<std::uint64_t, open_file> handles_;
  std::vector<partial_file> partials_;
  // 0 is the omitted zero value on the wire, so it never names a file.
  std::uint64_t next_handle_ = 1;
};

// Stat fields as the wire carries them; name is the base name of the path.
protocol::stat_info make_stat_info(const struct stat& st, std::string name);

// st_mode as the seed's clients read stat `m`: Go os.FileMode bits
// (permissions as they are; type, setuid, setgid and sticky in high bits).
std::uint32_t go_file_mode(mode_t mode);

}  // namespace remex::agent
