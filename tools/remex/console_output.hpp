// How `remex console` prints a node's answer: aligned columns for people,
// one JSON object per line for scripts.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"

namespace remex::cli {

// Rows with an "error" field (a node that did not answer) become one line
// "remex: NODE: WHY" on stderr (text) or their object (JSON); the others a
// table, or "(none)" when there are none. Returns how many error rows.
std::size_t print_rows(const std::vector<actors::console_row>& rows, bool json,
                       std::FILE* out);

// One JSON object from fields in order; a value of digits only is a number.
std::string json_object(const std::vector<std::string>& keys,
                        const std::vector<std::string>& values);

}  // namespace remex::cli
