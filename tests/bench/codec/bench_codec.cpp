// Throughput of encode + decode of 32 KiB data frames, printed beside a plain
// memcpy of the same bytes: the codec should cost a small multiple of a copy.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "protocol/codec.hpp"

using namespace remex::protocol;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::size_t chunk = 32 * 1024;
constexpr std::size_t frames_per_run = 32 * 1024;  // 1 GiB of payload
constexpr int runs = 7;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double mb_per_s(clock_type::duration d) {
  auto s = std::chrono::duration<double>(d).count();
  return static_cast<double>(chunk * frames_per_run) / s / 1e6;
}

// Sender and receiver of one frame each: encode into a reused buffer, feed
// it, take the frame out.
double run_codec(const std::string& payload, std::size_t& checksum) {
  frame_decoder dec;
  std::string wire;
  frame in = make_data(1, payload);
  frame out;
  auto start = clock_type::now();
  for (std::size_t i = 0; i < frames_per_run; ++i) {
    wire.clear();
    encode(in, wire);
    dec.feed(wire);
    if (dec.next(out) != frame_decoder::status::frame) {
      std::fprintf(stderr, "decode failed: %s\n", dec.error_message().c_str());
      std::exit(1);
    }
    checksum += static_cast<unsigned char>(out.d[i % chunk]);
  }
  return mb_per_s(clock_type::now() - start);
}

// The zero-copy sender (encode_data_head) with the same receiver.
double run_head(const std::string& payload, std::size_t& checksum) {
  frame_decoder dec;
  std::string head;
  frame out;
  auto start = clock_type::now();
  for (std::size_t i = 0; i < frames_per_run; ++i) {
    head.clear();
    encode_data_head(1, payload.size(), head);
    dec.feed(head);
    dec.feed(payload);
    if (dec.next(out) != frame_decoder::status::frame) std::exit(1);
    checksum += static_cast<unsigned char>(out.d[i % chunk]);
  }
  return mb_per_s(clock_type::now() - start);
}

double run_memcpy(const std::string& payload, std::size_t& checksum) {
  std::vector<char> dst(chunk);
  auto start = clock_type::now();
  for (std::size_t i = 0; i < frames_per_run; ++i) {
    std::memcpy(dst.data(), payload.data(), chunk);
    checksum += static_cast<unsigned char>(dst[i % chunk]);
    asm volatile("" : : "r"(dst.data()) : "memory");
  }
  return mb_per_s(clock_type::now() - start);
}

}  // namespace

int main() {
  std::string payload(chunk, '\0');
  for (std::size_t i = 0; i < chunk; ++i)
    payload[i] = static_cast<char>(i * 131 + 7);
  std::size_t checksum = 0;
  std::vector<double> codec, head, copy;
  for (int r = 0; r < runs; ++r) {
    codec.push_back(run_codec(payload, checksum));
    head.push_back(run_head(payload, checksum));
    copy.push_back(run_memcpy(payload, checksum));
  }
  std::printf("32 KiB data frames, %zu per run, median of %d runs\n",
              frames_per_run, runs);
  std::printf("  encode + decode          %8.0f MB/s\n", median(codec));
  std::printf("  data head + decode       %8.0f MB/s\n", median(head));
  std::printf("  memcpy of the same bytes %8.0f MB/s\n", median(copy));
  std::printf("(checksum %zu)\n", checksum);
}
