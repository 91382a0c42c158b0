// Ping: answered with Pong, the nonce echoed.
#include "SessionHandlers.h"

namespace eventdesk {

using session::textFrame;

template <>
void SessionServer::handle<protocol::Ping>(Client *c, const protocol::Ping &m)
{
    send(c, textFrame(protocol::pong(m.nonce)));
}

} // namespace eventdesk
