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

// An exec frame carries argv and env, and limits never refuse what the host
// would run: Linux takes argv and env strings plus their pointers up to a
// quarter of the stack limit, never more than 6 MiB (3/4 of _STK_LIM). An
// exec frame alone gets these larger bounds, once its `t` has been read
// (the seed and remex write `t` first; sorted keys put it before `x` too).
constexpr std::size_t max_exec_frame_size = 8 * 1024 * 1024;
// A single argv or env string: anything the frame holds. Longer than
// MAX_ARG_STRLEN is for execve to refuse (E2BIG), not the decoder.
constexpr std::size_t max_exec_string_length = max_exec_frame_size;
// 6 MiB of strings of one byte (with NUL) and one pointer each: ~700 Ki.
constexpr std::size_t max_exec_array_length = 1024 * 1024;
constexpr std::size_t max_exec_items_per_frame = max_exec_array_length + 1024;

// The bounds one frame is decoded under.
struct frame_limits {
  std::size_t frame_size;
  std::size_t string_length;  // text; bytes stay within max_data_chunk
  std::size_t array_length;
  std::size_t items;
};
constexpr frame_limits default_frame_limits{
    max_frame_size, max_string_length, max_array_length, max_items_per_frame};
constexpr frame_limits exec_frame_limits{
    max_exec_frame_size, max_exec_string_length, max_exec_array_length,
    max_exec_items_per_frame};

}  // namespace remex::protocol
