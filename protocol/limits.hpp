// Bounds the agent protocol decoder enforces on every frame, so that no input,
// however hostile, makes it allocate without limit or recurse without end.
#pragma once

#include <cstddef>

namespace remex::protocol {

// Largest payload of one data frame an encoder emits; senders split beyond it.
constexpr std::size_t max_data_chunk = 1024 * 1024;
// Largest encoded frame: a full data chunk plus room for keys and headers.
constexpr std::size_t max_frame_size = max_data_chunk + 64 * 1024;
// Longest text string (paths, messages, env entries): Linux's own limit on
// one argv or env string (MAX_ARG_STRLEN), so every command exec(2) would run
// can be sent.
constexpr std::size_t max_string_length = 128 * 1024;
// Most elements in one array or pairs in one map (argv, env, path entries).
constexpr std::size_t max_array_length = 64 * 1024;
// Deepest nesting of maps and arrays: frame map > path-info > entries > entry.
constexpr std::size_t max_nesting = 8;
// Most data items of any kind in one frame (bounds the decoded tree's size).
constexpr std::size_t max_items_per_frame = 256 * 1024;

}  // namespace remex::protocol
