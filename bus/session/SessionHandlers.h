// Internal to the session server's files: the handler of each client message
// type, registered here, one line each. A new message type is its struct in
// the protocol (SessionProtocol.h, in ClientMessage, and its decoding), a
// file of its own with its handler (Handle*.cpp), and a line here.
#pragma once

#include "SessionClient.h"

namespace eventdesk {

template <> void SessionServer::handle<protocol::Join>(Client *c, const protocol::Join &m);                      // HandleJoin.cpp
template <> void SessionServer::handle<protocol::Ping>(Client *c, const protocol::Ping &m);                      // HandlePing.cpp
template <> void SessionServer::handle<protocol::ListChallenges>(Client *c, const protocol::ListChallenges &m);  // HandleChallenges.cpp
template <> void SessionServer::handle<protocol::ChallengeRoll>(Client *c, const protocol::ChallengeRoll &m);    // HandleChallenges.cpp
template <> void SessionServer::handle<protocol::Publish>(Client *c, const protocol::Publish &m);                // HandlePublish.cpp
template <> void SessionServer::handle<protocol::Replay>(Client *c, const protocol::Replay &m);                  // HandlePublish.cpp

} // namespace eventdesk
