// The owned "all of it" composed operation behind async_read(_at) / async_write(_at): the buffer
// passes through repeated operations as a slice of itself and comes back whole.
#pragma once

#include <asio_uring/buffer_traits.hpp>
#include <asio_uring/slice.hpp>

#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace asio_uring::detail {

enum class transfer { read, write };

/// Stream is an owned-buffer stream (async_read_some(B&&)) or, with Positional, a random-access
/// device (async_read_some_at(offset, B&&)).
template <class Stream, class Buffer, transfer Dir, bool Positional>
struct transfer_all_op {
  Stream& stream;
  std::uint64_t offset;
  Buffer buffer;
  std::size_t done = 0;
  bool started = false;

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}, std::size_t n = 0,
                  sliced_buffer<Buffer> part = {}) {
    if (started) {
      buffer = std::move(part).release();
      done += n;
      std::size_t size = buffer_traits<Buffer>::size(buffer);
      // A terminal cancellation the kernel could not honour hands back an empty slice: the
      // buffer stays with the kernel's op and this completes with a default-constructed one.
      if (ec || done >= size || (n == 0 && size > 0)) {
        if (!ec && n == 0 && done < size)
          ec = Dir == transfer::read
                   ? boost::system::error_code(boost::asio::error::eof)
                   : boost::system::error_code(boost::asio::error::no_buffer_space);
        self.complete(ec, done, std::move(buffer));
        return;
      }
    }
    started = true;
    // The first step always starts an operation (a zero-length one completes posted), so this
    // never completes inside the initiating call.
    auto rest = slice(std::move(buffer), done);
    if constexpr (Positional) {
      if constexpr (Dir == transfer::read)
        stream.async_read_some_at(offset + done, std::move(rest), std::move(self));
      else
        stream.async_write_some_at(offset + done, std::move(rest), std::move(self));
    } else {
      if constexpr (Dir == transfer::read)
        stream.async_read_some(std::move(rest), std::move(self));
      else
        stream.async_write_some(std::move(rest), std::move(self));
    }
  }
};

template <transfer Dir, bool Positional, class Stream, class Buffer, class Token>
auto async_transfer_all(Stream& s, std::uint64_t offset, Buffer&& b, Token&& token) {
  using B = std::remove_cvref_t<Buffer>;
  return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t, B)>(
      transfer_all_op<Stream, B, Dir, Positional>{s, offset, std::move(b)}, token, s);
}

} // namespace asio_uring::detail
