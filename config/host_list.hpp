// pdsh-style host lists: "web[01-20],db[1-3,7]", as remex fanout takes them
// and host groups (config/host_groups.hpp) define them.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace remex::config {

// A list that expands beyond this is a typo (web[1-1000000]), not a cluster.
constexpr std::size_t max_listed_hosts = 100000;

// The items of a comma list, split at the commas outside brackets:
// "db[1-3,7],web1" is {"db[1-3,7]", "web1"}. Empty items are kept ("a,,b"
// has three), for the caller to refuse.
std::vector<std::string> split_host_list(const std::string& text);

// Expands a comma list whose names may hold bracket ranges ("web[01-03]" is
// web01 web02 web03: the width of a range's first number is kept; several
// brackets in one name expand as a product). Duplicates are dropped, first
// occurrence kept. On bad syntax returns {} and sets error to one line.
std::vector<std::string> expand_hosts(const std::string& text,
                                      std::string& error);

// The inverse, for headers: hosts that differ only in a trailing number of
// the same width are folded into one bracket ("web[01-03,07],db1"); groups
// keep the order of their first host.
std::string compress_hosts(std::vector<std::string> hosts);

}  // namespace remex::config
