// http_server: one connection, from accept to close.
#pragma once

#include "server_config.hpp"

#include <asio_uring.hpp>

#include <boost/asio/awaitable.hpp>

namespace http_server {

/// Serves requests on `socket` until the peer leaves, asks to close, misbehaves or misses a
/// deadline. `config` must outlive the session.
boost::asio::awaitable<void> run_session(asio_uring::ip::tcp::socket socket,
                                         const server_config& config);

} // namespace http_server
