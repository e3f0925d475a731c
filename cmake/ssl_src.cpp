// Compiles Asio's SSL part once (BOOST_ASIO_SEPARATE_COMPILATION) for the TLS example and
// tests; linked with OpenSSL.
#include <boost/asio/ssl/impl/src.hpp>
