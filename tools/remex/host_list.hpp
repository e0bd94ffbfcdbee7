// pdsh-style host lists for remex fanout: "web[01-20],db[1-3,7]".
#pragma once

#include <string>
#include <vector>

namespace remex::cli {

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

}  // namespace remex::cli
