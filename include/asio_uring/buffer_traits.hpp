// Owned buffers: the types whose storage an operation may keep until its final CQE.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

namespace asio_uring {

/// Specialise for a type to make it an owned buffer: `static std::byte* data(B&)` (first byte)
/// and `static std::size_t size(const B&)`. Views (span, string_view, asio::mutable_buffer) must
/// never be owned buffers: the library could not keep their memory alive.
template <class B>
struct buffer_traits; // not defined: not an owned buffer

namespace detail {
template <class T>
concept byte_like = sizeof(T) == 1 && std::is_trivially_copyable_v<T>;
}

template <detail::byte_like T, class A>
struct buffer_traits<std::vector<T, A>> {
  static std::byte* data(std::vector<T, A>& b) noexcept {
    return reinterpret_cast<std::byte*>(b.data());
  }
  static std::size_t size(const std::vector<T, A>& b) noexcept { return b.size(); }
};

template <detail::byte_like T, class Tr, class A>
struct buffer_traits<std::basic_string<T, Tr, A>> {
  static std::byte* data(std::basic_string<T, Tr, A>& b) noexcept {
    return reinterpret_cast<std::byte*>(b.data());
  }
  static std::size_t size(const std::basic_string<T, Tr, A>& b) noexcept { return b.size(); }
};

template <detail::byte_like T, std::size_t N>
struct buffer_traits<std::array<T, N>> {
  static std::byte* data(std::array<T, N>& b) noexcept {
    return reinterpret_cast<std::byte*>(b.data());
  }
  static std::size_t size(const std::array<T, N>&) noexcept { return N; }
};

/// A type with buffer_traits, movable and default-constructible (a terminal cancellation of an
/// operation the kernel cannot interrupt hands back a default-constructed one).
template <class B>
concept owned_buffer = requires(B& b, const B& cb) {
  { buffer_traits<B>::data(b) } -> std::same_as<std::byte*>;
  { buffer_traits<B>::size(cb) } -> std::convertible_to<std::size_t>;
}
&&std::move_constructible<B>&& std::default_initializable<B>;

/// True for an rvalue of an owned buffer: what the owned overloads accept (lvalues are rejected
/// so that a copy is never made silently).
template <class T>
concept owned_buffer_rvalue =
    !std::is_lvalue_reference_v<T> && owned_buffer<std::remove_cvref_t<T>>;

} // namespace asio_uring
