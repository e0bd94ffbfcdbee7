// The agent bundle: remex-agent and the libraries beside it, as one unit
// named by its digest, and where a backend placed it on a host. Backend
// neutral; transport/ssh/agent_transfer.hpp puts a bundle on a host over SSH.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "transport/exec_channel.hpp"

namespace remex::transport {

struct agent_bundle {
  std::vector<std::string> files;  // local paths; the first is the program
};

struct agent_placement {
  bool ok = false;
  bool uploaded = false;  // false: found intact (or already checked)
  std::string directory;  // relative to the remote home
  std::string program;    // directory + "/" + name of the first file
  bool missing = false;   // check_agent: not there or not intact; upload
  exit_status failure;    // when !ok && !missing: why (code 255)
  // Lines for the user from making the connection (a host key recorded).
  std::vector<std::string> notices;
};

// sha256 over a manifest of each file's name, size and content: one digest
// for the bundle as a unit. Empty when a file cannot be read.
std::string bundle_digest(const agent_bundle& b);

// A bundle as read from disk in one pass, keyed by each file's base name.
struct bundle_contents {
  std::map<std::string, std::string> digests;  // sha256 of each file
  std::map<std::string, std::string> bytes;
  std::string digest;   // bundle_digest
  std::string program;  // base name of the first file
};

// The bundle's contents, read and hashed once per process while its files
// stay the same (device, inode, size, mtime): every session to every host
// asks for it, and a fan-out to 40 hosts once read and hashed the agent 40
// times at once. Null when a file cannot be read (unreadable names it).
// Thread-safe.
std::shared_ptr<const bundle_contents> read_bundle(const agent_bundle& b,
                                                   std::string& unreadable);

// Placements (remote directories) verified on one host. Thread-safe.
class verified_placements {
 public:
  bool contains(const std::string& directory) const;
  void add(const std::string& directory);
  // The one verified last (empty before any): the agent now in use there.
  std::string latest() const;

 private:
  mutable std::mutex mtx_;
  std::set<std::string> directories_;
  std::string latest_;
};

}  // namespace remex::transport
