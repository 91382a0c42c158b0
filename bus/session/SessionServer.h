// The session server (DESIGN §5): players and DMs join over WebSocket and
// receive, each as their role and world allow, every event of the bus — live,
// after a reconnect from their last_event_id without gap or duplicate, and
// replayed on the DM's request. Each event is encoded once for all clients.
//
// Sockets, HTTP, frames and the budgets of connections that have not joined
// are the Transport's; this class holds the joined clients: their rate limits
// (DMs get a larger publish budget), a bound on unsent bytes, the join deadline,
// ping/pong, and the throttle on failed joins — which delays, escalating, but
// never locks out the right secret.
#pragma once

#include "Ports.h"
#include "Producers.h"
#include "SessionProtocol.h"
#include "Transport.h"

#include <QDateTime>
#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QRandomGenerator>
#include <QSet>
#include <QTimer>
#include <QUrl>

#include <memory>

namespace eventdesk {

class DeskBook;
class Subscriber;

struct SessionConfig {
    QHostAddress address = QHostAddress::LocalHost;
    quint16 port = 7878;          // 0: any free port
    // The database's join secret (empty: a new random one). Players never type
    // it: each world's code is derived from it (joinCodeFor), so a code opens
    // one world only.
    QString joinCode;
    QString dmToken;              // empty: a new random one
    // Beyond the defaults: no Origin; http(s)://localhost or 127.0.0.1, any port;
    // and the player page's own origin (see originAllowed).
    QStringList allowedOrigins;
    bool playerPage = true;       // answer GET /join, /table and their assets
    QString sessionId;            // empty: a new UUID; goes into ChallengeResolved
    int maxClients = 256;
    qint64 maxMessageBytes = 64 * 1024;
    qint64 maxQueuedBytes = 8 * 1024 * 1024;
    int joinTimeoutMs = 10000;
    int pingIntervalMs = 15000;
    int pongTimeoutMs = 45000;
    double messagesPerSecond = 20;
    int burst = 40;
    double dmMessagesPerSecond = 200;  // a DM's tools publish in bursts
    int dmBurst = 400;
    int floodLimit = 40;          // rate_limited answers in a row before the client is closed
    int freeJoinFailures = 3;       // per address, before joins from it are slowed down
    int joinDelayMaxMs = 30000;     // the longest a wrong secret waits for its answer
    int rightSecretDelayMaxMs = 2000;  // the longest the right one waits, however many failures before it
    session::TransportLimits transport;
    int maxReplay = 10000;
    quint32 seed = 0;             // dice; 0: random
    QString tlsCertificate;       // PEM files: both set for wss://
    QString tlsKey;
};

// A join that was refused, or a connection dropped before it could join.
struct Refusal {
    QDateTime at;
    QString address;
    QString role;    // empty when it never got as far as a Join
    QString world;
    QString reason;
};

struct ClientInfo {
    QString id;
    QString name;
    session::Role role = session::Role::Player;
    QString worldId;
    QString peer;            // address:port
    QDateTime connectedSince;
    qint64 messagesSent = 0;
    qint64 bytesQueued = 0;
    bool joined = false;
};

class SessionServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SessionServer)
public:
    // challengeBook (optional) holds the DM's challenges and the audit log.
    SessionServer(EventStore &store, EventBus &bus, Notifier &notifier, DeskBook *challengeBook,
                  SessionConfig config, QObject *parent = nullptr);
    ~SessionServer() override;

    // Where to listen next time (the DM picks loopback or a LAN address).
    void setListenAddress(const QHostAddress &address, quint16 port);
    Result<bool> listen();
    void close();
    bool isListening() const;
    QUrl url() const;  // ws://host:port (the address players use)
    // The player page's join link for one world: http://host:port/join?world=W&code=C
    // (https with TLS). The table screen's is the same at /table.
    QUrl joinLink(const QString &worldId, const QString &page = QStringLiteral("join")) const;
    quint16 port() const;

    // The secret every world's code is derived from; New makes another, and
    // with it a new code for every world.
    QString joinCode() const { return m_config.joinCode; }
    QString regenerateJoinCode();
    // The code that opens this world, and only this one.
    QString joinCodeFor(const QString &worldId) const { return worldJoinCode(m_config.joinCode, worldId); }
    static QString worldJoinCode(const QString &secret, const QString &worldId);
    // Players join worlds the log has seen; a new world is opened for them here first.
    void openWorld(const QString &worldId);
    bool isKnownWorld(const QString &worldId) const { return m_worlds.contains(worldId); }
    QStringList knownWorlds() const { return m_worlds.values(); }
    QString dmToken() const { return m_config.dmToken; }
    QString sessionId() const { return m_config.sessionId; }

    // Display names of characters and worlds (id → name): the engine's clients
    // read a ChallengeResolved's character_name.
    void setDisplayNames(QHash<QString, QString> names) { m_names = std::move(names); }

    QList<ClientInfo> clients() const;
    int clientCount() const;
    bool kick(const QString &clientId, const QString &reason = {});
    // Re-sends an id range to the session, flagged replay; returns how many
    // messages went out. Audited as `actor`.
    QFuture<Result<int>> replay(qint64 fromId, qint64 toId, const QString &worldId, const QString &actor);
    // How many connected clients would receive this event now.
    int audienceFor(const AppEvent &event) const;

    // Addresses whose joins are slowed down after failed ones (a guesser, or
    // a player who mistyped the code), worst first: everyone behind that
    // address (one NAT at a table) waits as long.
    struct Throttled {
        QString address;
        int failures = 0;
        int delayMs = 0;  // what its next wrong join waits
    };
    QList<Throttled> throttledAddresses() const;
    // Joins refused and connections turned away before joining, newest last (at most 20).
    QList<Refusal> recentRefusals() const { return m_refusals; }
    // Totals since the server was made, for /metrics.
    struct Stats {
        qint64 messagesSent = 0;
        qint64 clientsDropped = 0;  // joined clients closed by the server: slow, flooding, silent, kicked
        QHash<QString, qint64> refusedByReason;  // a short fixed set: wrong_join_code, origin, …
    };
    const Stats &stats() const { return m_stats; }
    // The last event id dispatched live: the session's own cursor.
    qint64 liveCursor() const { return m_liveHead; }
    // Answers GET /metrics on the session port (unset: 404 there).
    void setMetricsHandler(session::Transport::HttpHandler handler) { m_metricsHandler = std::move(handler); }
    qint64 refusedCount() const { return m_refusedCount; }
    const session::Transport::Counters &transportCounters() const { return m_transport.counters(); }
    int pendingConnections() const { return m_transport.pendingCount(); }

    static QString newJoinCode();
    static QString newDmToken();
    // The join code stored for this database (made and stored on first use),
    // unless the config names one: players keep the code they were given
    // until the DM presses New (regenerateJoinCode).
    static SessionConfig withStoredJoinCode(SessionConfig session, DeskBook *book);

Q_SIGNALS:
    void clientsChanged();
    // A world players may join now (its first event arrived, or the DM opened it).
    void worldAdded(const QString &worldId);
    void refusalsChanged();
    // The event log went back in time (reset or replaced); the session follows its new start.
    void logWentBack(qint64 cursor, qint64 head);
    void errorOccurred(const eventdesk::Error &error);

private:
    struct Client;
    void onOpened(session::Connection *connection);
    void onText(Client *c, const QByteArray &text);
    // The handler of one client message type (SessionHandlers.h registers them).
    template <class Message>
    void handle(Client *c, const Message &m);
    void decideJoin(const QString &clientId, const protocol::Join &m);
    void admit(Client *c, const protocol::Join &m);
    void sendRecent(Client *c, int count);
    void sendError(Client *c, protocol::ErrorCode code, const QString &message);
    bool send(Client *c, const QByteArray &frame, int messages = 1);
    bool queue(Client *c, const QByteArray &frame, int messages = 1);
    void flush(Client *c, bool all);
    void flushQueued();
    void drop(Client *c, const QString &why);
    void closeClient(Client *c, int closeCode, const QString &reason);
    void backfill(Client *c);
    void receive(const QList<StoredEvent> &events);
    void dispatch(const QList<StoredEvent> &events);
    void heartbeat();
    Client *find(const QString &id) const;
    bool originAllowed(const QString &origin, const QString &host) const;
    void recordRefusal(const QString &address, const QString &role, const QString &world, const QString &reason);
    int joinDelayMs(const QString &address, bool rightSecret);

    struct JoinFailures {
        int count = 0;
        qint64 lastMs = 0;
    };

    EventStore &m_store;
    EventBus &m_bus;
    Notifier &m_notifier;
    DeskBook *m_challengeBook;
    SessionConfig m_config;
    session::Transport m_transport;
    std::unique_ptr<Subscriber> m_live;
    std::vector<std::unique_ptr<Client>> m_clients;
    QHash<QString, Client *> m_byId;
    QList<QString> m_queued;  // clients with messages for the next flushQueued()
    qint64 m_liveHead = 0;  // the last id dispatched live
    ChallengeService m_challenges;
    QTimer m_heartbeat;
    QHash<QString, QString> m_names;
    QSet<QString> m_worlds;  // worlds the log has shown this server, and those the DM opened
    QHash<QString, JoinFailures> m_joinFailures;  // by address
    QList<Refusal> m_refusals;
    qint64 m_refusedCount = 0;
    qint64 m_refusalLogSecond = 0;
    int m_refusalsLogged = 0;
    int m_refusalsUnlogged = 0;
    quint64 m_nextClient = 1;
    int m_lastReplayEvents = 0;
    Stats m_stats;
    session::Transport::HttpHandler m_metricsHandler;
};

} // namespace eventdesk
