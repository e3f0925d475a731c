// What sockets and acceptors share (Asio's basic_socket and basic_socket_acceptor): open,
// assign, bind, options, io_control, the local endpoint and Asio's user-level non-blocking mode.
#pragma once

#include <asio_uring/detail/descriptor_object.hpp>
#include <asio_uring/socket_base.hpp>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <cerrno>
#include <optional>
#include <sys/ioctl.h>
#include <sys/socket.h>

namespace asio_uring::detail {

template <class Protocol, class Executor>
class socket_object : public descriptor_object<Executor>, public socket_base {
  using base = descriptor_object<Executor>;

public:
  using typename base::executor_type;
  using typename base::native_handle_type;
  using protocol_type = Protocol;
  using endpoint_type = typename Protocol::endpoint;

  void open(const protocol_type& protocol) {
    boost::system::error_code ec;
    open(protocol, ec);
    base::throw_if(ec, "open");
  }
  void open(const protocol_type& protocol, boost::system::error_code& ec) {
    if (this->is_open()) {
      ec = boost::asio::error::already_open;
      return;
    }
    int fd = ::socket(protocol.family(), protocol.type() | SOCK_CLOEXEC, protocol.protocol());
    if (fd < 0) {
      ec = last_error();
      return;
    }
    this->fd_ = fd;
    protocol_.emplace(protocol);
    ec = {};
  }
  /// Takes ownership of `fd`; O_NONBLOCK is cleared (io_uring waits for readiness itself).
  void assign(const protocol_type& protocol, native_handle_type fd) {
    boost::system::error_code ec;
    assign(protocol, fd, ec);
    base::throw_if(ec, "assign");
  }
  void assign(const protocol_type& protocol, native_handle_type fd, boost::system::error_code& ec) {
    base::assign(fd, ec);
    if (!ec)
      protocol_.emplace(protocol);
  }

  void bind(const endpoint_type& endpoint) {
    boost::system::error_code ec;
    bind(endpoint, ec);
    base::throw_if(ec, "bind");
  }
  void bind(const endpoint_type& endpoint, boost::system::error_code& ec) {
    ec = check(::bind(this->fd_, endpoint.data(), static_cast<socklen_t>(endpoint.size())));
  }

  template <class SettableSocketOption>
  void set_option(const SettableSocketOption& option) {
    boost::system::error_code ec;
    set_option(option, ec);
    base::throw_if(ec, "set_option");
  }
  template <class SettableSocketOption>
  void set_option(const SettableSocketOption& option, boost::system::error_code& ec) {
    const protocol_type& p = protocol();
    ec = check(::setsockopt(this->fd_, option.level(p), option.name(p), option.data(p),
                            static_cast<socklen_t>(option.size(p))));
  }
  template <class GettableSocketOption>
  void get_option(GettableSocketOption& option) const {
    boost::system::error_code ec;
    get_option(option, ec);
    base::throw_if(ec, "get_option");
  }
  template <class GettableSocketOption>
  void get_option(GettableSocketOption& option, boost::system::error_code& ec) const {
    const protocol_type& p = protocol();
    socklen_t n = static_cast<socklen_t>(option.size(p));
    ec = check(::getsockopt(this->fd_, option.level(p), option.name(p), option.data(p), &n));
    if (!ec)
      option.resize(p, n);
  }
  template <class IoControlCommand>
  void io_control(IoControlCommand& command) {
    boost::system::error_code ec;
    io_control(command, ec);
    base::throw_if(ec, "io_control");
  }
  template <class IoControlCommand>
  void io_control(IoControlCommand& command, boost::system::error_code& ec) {
    ec = check(::ioctl(this->fd_, static_cast<unsigned long>(command.name()), command.data()));
  }

  endpoint_type local_endpoint() const {
    boost::system::error_code ec;
    endpoint_type ep = local_endpoint(ec);
    base::throw_if(ec, "local_endpoint");
    return ep;
  }
  endpoint_type local_endpoint(boost::system::error_code& ec) const {
    return endpoint_of(&::getsockname, ec);
  }

  /// Asio's user-level non-blocking mode: synchronous calls fail with would_block instead of
  /// waiting. Asynchronous operations are unaffected.
  bool non_blocking() const noexcept { return non_blocking_; }
  void non_blocking(bool mode) { non_blocking_ = mode; }
  void non_blocking(bool mode, boost::system::error_code& ec) {
    non_blocking_ = mode;
    ec = {};
  }

protected:
  explicit socket_object(const executor_type& ex) : base(ex) {}
  socket_object(socket_object&&) noexcept = default;
  socket_object& operator=(socket_object&&) noexcept = default;
  ~socket_object() = default;

  static boost::system::error_code last_error() noexcept {
    return {errno, boost::system::system_category()};
  }
  static boost::system::error_code check(int rc) noexcept {
    return rc < 0 ? last_error() : boost::system::error_code();
  }
  const protocol_type& protocol() const {
    if (!protocol_)
      throw boost::system::system_error(boost::asio::error::bad_descriptor, "socket not open");
    return *protocol_;
  }
  int sync_flags(int flags) const noexcept { return flags | (non_blocking_ ? MSG_DONTWAIT : 0); }
  template <class F>
  endpoint_type endpoint_of(F f, boost::system::error_code& ec) const {
    endpoint_type ep;
    socklen_t n = static_cast<socklen_t>(ep.capacity());
    ec = check(f(this->fd_, ep.data(), &n));
    if (ec)
      return endpoint_type();
    ep.resize(n);
    return ep;
  }

  std::optional<protocol_type> protocol_;
  bool non_blocking_ = false;
};

} // namespace asio_uring::detail
