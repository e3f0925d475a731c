// asio_uring::slice: an owned buffer that targets a sub-range of another and gives all of it back.
#pragma once

#include <asio_uring/buffer_traits.hpp>

#include <algorithm>
#include <cstddef>
#include <utility>

namespace asio_uring {

/// Owns a whole buffer and exposes `[offset, offset + length)` of it to operations.
template <owned_buffer Buffer>
class sliced_buffer {
public:
  sliced_buffer() = default;
  sliced_buffer(Buffer&& b, std::size_t offset, std::size_t length) : buffer_(std::move(b)) {
    std::size_t size = buffer_traits<Buffer>::size(buffer_);
    offset_ = std::min(offset, size);
    length_ = std::min(length, size - offset_);
  }
  std::byte* data() noexcept { return buffer_traits<Buffer>::data(buffer_) + offset_; }
  std::size_t size() const noexcept { return length_; }
  std::size_t offset() const noexcept { return offset_; }
  /// The whole underlying buffer.
  Buffer release() && { return std::move(buffer_); }
  const Buffer& get() const noexcept { return buffer_; }

private:
  Buffer buffer_{};
  std::size_t offset_ = 0;
  std::size_t length_ = 0;
};

template <owned_buffer Buffer>
struct buffer_traits<sliced_buffer<Buffer>> {
  static std::byte* data(sliced_buffer<Buffer>& b) noexcept { return b.data(); }
  static std::size_t size(const sliced_buffer<Buffer>& b) noexcept { return b.size(); }
  /// A slice of a registered buffer is still inside its registration.
  static unsigned fixed_index(const sliced_buffer<Buffer>& b) noexcept requires
      requires(const Buffer& inner) {
    buffer_traits<Buffer>::fixed_index(inner);
  }
  { return buffer_traits<Buffer>::fixed_index(b.get()); }
};

/// `slice(std::move(b), offset, length)`: operate on a sub-range (clamped to the buffer); the
/// completion hands back the slice, and `std::move(s).release()` the whole buffer.
template <class Buffer>
requires owned_buffer_rvalue<Buffer&&> sliced_buffer<std::remove_cvref_t<Buffer>>
slice(Buffer&& b, std::size_t offset, std::size_t length = static_cast<std::size_t>(-1)) {
  return {std::move(b), offset, length};
}

} // namespace asio_uring
