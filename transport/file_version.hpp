// What identifies a file's content as it is now, without reading it: its
// device, inode, size and modification time. Whoever keeps something made
// from a file (a connection made under an ssh config, the agent bundle read
// and hashed) compares it to tell whether that still holds.
#pragma once

#include <sys/stat.h>

#include <string>

namespace remex::transport {

// "PATH:DEV:INO:SIZE:MTIME", or "PATH:none" when it cannot be stat()ed.
inline std::string file_version(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return path + ":none";
  return path + ":" + std::to_string(st.st_dev) + ":" +
         std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

}  // namespace remex::transport
