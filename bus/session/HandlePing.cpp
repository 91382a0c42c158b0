// Ping: answered with Pong, the nonce echoed.
#include "SessionHandlers.h"

using namespace Qt::StringLiterals;

namespace eventdesk {

using PErr = protocol::ErrorCode;
using session::textFrame;
using namespace session_detail;

template <>
void SessionServer::handle<protocol::Ping>(Client *c, const protocol::Ping &m)
{
    send(c, textFrame(protocol::pong(m.nonce)));
}

} // namespace eventdesk
