// The session server with real sockets on 127.0.0.1, port 0: the routing matrix
// over every variant, join failures, floods, a client that never reads, the
// client limit and kicking.
#include "BusNotifier.h"
#include "EventCodec.h"
#include "Ids.h"
#include "Metrics.h"
#include "SampleEvents.h"
#include "SessionServer.h"
#include "SqliteEventStore.h"
#include "TestSupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QWebSocket>

#include <sys/socket.h>

using namespace Qt::StringLiterals;
using namespace eventdesk;
using test::await;

namespace {

const QString JoinCode = u"JOINCODE"_s;  // the database's secret: each world's code comes from it
QString worldCode(const QString &world) { return SessionServer::worldJoinCode(JoinCode, world); }
// A Join written out with "JOINCODE" where w1's code goes.
// ("NOWHERECODE": the right code of a world no event has named).
QString withW1Code(QByteArray join)
{
    join.replace("\"NOWHERECODE\"", QByteArray("\"" + worldCode(u"nowhere"_s).toUtf8() + '"'));
    return QString::fromUtf8(join.replace("\"JOINCODE\"", QByteArray("\"" + worldCode(u"w1"_s).toUtf8() + '"')));
}
const QString DmToken = u"0123456789abcdef0123456789abcdef"_s;

// A WebSocket client that records what it receives and how it was closed.
struct Client {
    QWebSocket ws;
    QList<QJsonObject> received;
    int closeCode = -1;

    Client()
    {
        QObject::connect(&ws, &QWebSocket::textMessageReceived, &ws,
                         [this](const QString &t) { received.append(QJsonDocument::fromJson(t.toUtf8()).object()); });
        QObject::connect(&ws, &QWebSocket::disconnected, &ws, [this] { closeCode = int(ws.closeCode()); });
    }
    void send(const QJsonObject &o) { ws.sendTextMessage(QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact))); }
    QStringList types() const
    {
        QStringList out;
        for (const QJsonObject &o : received)
            out.append(o.value(u"type"_s).toString());
        return out;
    }
    QList<QJsonObject> of(const QString &type) const
    {
        QList<QJsonObject> out;
        for (const QJsonObject &o : received)
            if (o.value(u"type"_s).toString() == type)
                out.append(o);
        return out;
    }
};

// The bus's notifier, with a hook for the moment a fan-out asks it what other
// threads committed since its last announcement.
class HookedNotifier final : public Notifier
{
public:
    HookedNotifier() { connect(&m_inner, &Notifier::eventsAvailable, this, &Notifier::eventsAvailable); }
    void notifyAppended(qint64 lastId) override { m_inner.notifyAppended(lastId); }
    bool announcePending() override
    {
        ++asked;
        if (onFirstAsk)
            std::exchange(onFirstAsk, {})();
        const bool announcedNow = m_inner.announcePending();
        announced += announcedNow ? 1 : 0;
        return announcedNow;
    }

    std::function<void()> onFirstAsk;
    int asked = 0;
    int announced = 0;

private:
    BusNotifier m_inner{0};
};

} // namespace

class TestSessionServer : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<SqliteEventStore> m_store;
    std::unique_ptr<Notifier> m_notifier;
    std::unique_ptr<StoreEventBus> m_bus;
    std::unique_ptr<SessionServer> m_server;
    int m_n = 0;

    void startServer(SessionConfig config = {}, std::unique_ptr<Notifier> notifier = {})
    {
        SqliteOptions o;
        o.path = m_dir.filePath(u"s%1.db"_s.arg(++m_n));
        m_store = std::make_unique<SqliteEventStore>(o);
        QVERIFY(m_store->openAndWait().ok());
        m_notifier = notifier ? std::move(notifier) : std::make_unique<BusNotifier>(0);
        m_bus = std::make_unique<StoreEventBus>(*m_store, *m_notifier);
        config.port = 0;
        config.joinCode = JoinCode;
        config.dmToken = DmToken;
        config.seed = 7;
        m_server = std::make_unique<SessionServer>(*m_store, *m_bus, *m_notifier, m_store->desk(), config);
        // The worlds the tests' players join before any event of theirs.
        m_server->openWorld(u"w1"_s);
        m_server->openWorld(u"w2"_s);
        QVERIFY(m_server->listen().ok());
    }

    std::unique_ptr<Client> connectClient()
    {
        auto c = std::make_unique<Client>();
        QSignalSpy connected(&c->ws, &QWebSocket::connected);
        c->ws.open(m_server->url());
        if (!connected.wait(5000))
            return nullptr;
        return c;
    }

    std::unique_ptr<Client> join(const QString &role, const QString &world, const QString &secret = {})
    {
        auto c = connectClient();
        if (!c)
            return nullptr;
        QJsonObject j{{u"type"_s, u"Join"_s}, {u"role"_s, role}, {u"world_id"_s, world}, {u"name"_s, QString(role + u'-' + world)}};
        j.insert(role == u"dm"_s ? u"dm_token"_s : u"join_code"_s,
                 secret.isEmpty() ? (role == u"dm"_s ? DmToken : worldCode(world)) : secret);
        c->send(j);
        if (!QTest::qWaitFor([&] { return !c->received.isEmpty(); }, 5000))
            return nullptr;
        return c;
    }

    // A server whose notifier hooks the fan-out's asks (HookedNotifier).
    HookedNotifier *startHookedServer()
    {
        auto owned = std::make_unique<HookedNotifier>();
        HookedNotifier *notifier = owned.get();
        startServer({}, std::move(owned));
        return notifier;
    }

    // n players of world w1, each with its Joined message still received;
    // none if one could not join.
    std::vector<std::unique_ptr<Client>> joinPlayers(int n)
    {
        std::vector<std::unique_ptr<Client>> players;
        for (int i = 0; i < n; ++i) {
            auto p = join(u"player"_s, u"w1"_s);
            if (!p)
                return {};
            players.push_back(std::move(p));
        }
        return players;
    }

    // A raw socket as a DM: the handshake and one masked Join, no reading after.
    bool rawDmJoin(QTcpSocket &raw, const QByteArray &name)
    {
        raw.connectToHost(QHostAddress::LocalHost, m_server->port());
        if (!raw.waitForConnected(5000))
            return false;
        raw.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        if (!QTest::qWaitFor([&] { return raw.peek(512).contains("\r\n\r\n"); }, 5000))
            return false;
        raw.readAll();
        const QByteArray join = "{\"type\":\"Join\",\"role\":\"dm\",\"world_id\":\"*\",\"name\":\"" + name
            + "\",\"dm_token\":\"" + DmToken.toLatin1() + "\"}";
        QByteArray frame;
        frame += char(0x81);
        frame += char(0x80 | join.size());
        const char mask[4] = {1, 2, 3, 4};
        frame.append(mask, 4);
        for (qsizetype i = 0; i < join.size(); ++i)
            frame += char(join[i] ^ mask[i % 4]);
        raw.write(frame);
        return true;
    }

private Q_SLOTS:
    void cleanup() { m_server.reset(); }
    void routingMatrix();
    void badJoins_data();
    void badJoins();
    void noJoinInTime();
    void wrongFieldTypesKeepTheConnection();
    void floodIsLimitedOthersUnaffected();
    void clientThatNeverReadsIsDropped();
    void slowReaderGetsEverythingInOrder();
    void appendsDuringAFanOutReachTheRestOfIt();
    void playersLeavingDuringAFanOut();
    void vanishedReaderIsDroppedOthersUnaffected();
    void clientLimitAndKick();
    void refusalsAreCountedWithoutTheSecret();
    void pendingConnectionsHaveTheirOwnBudget();
    void stoppingTellsThePlayers();
    void codesAndTokens();
    void joinCodeStaysWithTheDatabase();
    void eachWorldHasItsOwnCode();
    void lfOnlyRequestsAreAnswered();
    void recentEventsAndChallengesForThePlayerPage();
};

void TestSessionServer::routingMatrix()
{
    startServer();
    auto p1 = join(u"player"_s, u"w1"_s);
    auto p2 = join(u"player"_s, u"w2"_s);
    auto d1 = join(u"dm"_s, u"w1"_s);
    auto dAll = join(u"dm"_s, u"*"_s);
    QVERIFY(p1 && p2 && d1 && dAll);
    for (Client *c : {p1.get(), p2.get(), d1.get(), dAll.get()}) {
        QCOMPARE(c->types(), QStringList{u"Joined"_s});
        c->received.clear();
    }

    // Every variant, with its world (w1) where it has one and without where it may.
    QList<AppEvent> sent;
    for (EventKind k : test::allKinds()) {
        const VariantSpec &spec = catalog::spec(k);
        if (spec.hasWorld)
            sent.append(test::sampleEvent(k, true, u"w1"_s));
        if (!spec.worldRequired)
            sent.append(test::sampleEvent(k, false));
    }
    QVERIFY(await(m_bus->publishBatch(sent)).ok());
    int expectP1 = 0, expectD1 = 0;
    for (const AppEvent &e : sent) {
        expectP1 += session::mayReceive(session::Role::Player, u"w1"_s, e);
        expectD1 += session::mayReceive(session::Role::Dm, u"w1"_s, e);
    }
    QCOMPARE(expectP1, 3);
    QTRY_COMPARE(dAll->received.size(), sent.size());
    QTRY_COMPARE(d1->received.size(), expectD1);
    QTRY_COMPARE(p1->received.size(), expectP1);
    QCOMPARE(p1->types(), (QStringList{u"StoryEventCreated"_s, u"NarrativeEventTriggered"_s, u"ChallengeResolved"_s}));
    // p2 (w2) got nothing of this: a w2 event sent after all of them is the first it sees.
    QVERIFY(await(m_bus->publish(test::sampleEvent(EventKind::StoryEventCreated, true, u"w2"_s))).ok());
    QTRY_COMPARE(p2->received.size(), 1);
    QCOMPARE(p2->received.first().value(u"world_id"_s).toString(), u"w2"_s);
    for (const QJsonObject &m : p1->received)
        QCOMPARE(m.value(u"world_id"_s).toString(), u"w1"_s);
    // d1 gets w1 and global, never another world's.
    for (const QJsonObject &m : d1->received)
        QVERIFY(!m.contains(u"world_id"_s) || m.value(u"world_id"_s).isNull() || m.value(u"world_id"_s).toString() == u"w1"_s);
    // Messages in id order for everyone.
    qint64 last = 0;
    for (const QJsonObject &m : dAll->received) {
        QVERIFY(m.value(u"seq"_s).toInteger() > last);
        last = m.value(u"seq"_s).toInteger();
    }
}

void TestSessionServer::badJoins_data()
{
    QTest::addColumn<QByteArray>("join");
    QTest::addColumn<QString>("code");
    QTest::newRow("wrong code") << QByteArray(R"({"type":"Join","role":"player","world_id":"w1","name":"x","join_code":"NOPE1234"})") << u"unauthorized"_s;
    QTest::newRow("wrong token") << QByteArray(R"({"type":"Join","role":"dm","world_id":"*","name":"x","dm_token":"0000"})") << u"unauthorized"_s;
    QTest::newRow("code as dm token") << QByteArray(R"({"type":"Join","role":"dm","world_id":"w1","name":"x","dm_token":"JOINCODE"})") << u"unauthorized"_s;
    QTest::newRow("unknown role") << QByteArray(R"({"type":"Join","role":"god","world_id":"w1","name":"x","join_code":"JOINCODE"})") << u"bad_message"_s;
    QTest::newRow("player for every world") << QByteArray(R"({"type":"Join","role":"player","world_id":"*","name":"x","join_code":"JOINCODE"})") << u"forbidden"_s;
    QTest::newRow("no world") << QByteArray(R"({"type":"Join","role":"player","name":"x","join_code":"JOINCODE"})") << u"bad_message"_s;
    QTest::newRow("w1's code on w2") << QByteArray(R"({"type":"Join","role":"player","world_id":"w2","name":"x","join_code":"JOINCODE"})") << u"unauthorized"_s;
    QTest::newRow("the secret itself") << QByteArray(R"({"type":"Join","role":"player","world_id":"w1","name":"x","join_code":"JOIN\u0043ODE"})") << u"unauthorized"_s;
    QTest::newRow("a world no one opened") << QByteArray(R"({"type":"Join","role":"player","world_id":"nowhere","name":"x","join_code":"NOWHERECODE"})") << u"not_found"_s;
    QTest::newRow("name with a bell") << QByteArray(R"({"type":"Join","role":"player","world_id":"w1","name":"a\u0007b","join_code":"JOINCODE"})") << u"bad_message"_s;
    QTest::newRow("name with a bidi override") << QByteArray(R"({"type":"Join","role":"player","world_id":"w1","name":"\u202Eevil","join_code":"JOINCODE"})") << u"bad_message"_s;
    QTest::newRow("name on two lines") << QByteArray(R"({"type":"Join","role":"player","world_id":"w1","name":"a\nb","join_code":"JOINCODE"})") << u"bad_message"_s;
    QTest::newRow("name with a lone surrogate") << QByteArray(R"({"type":"Join","role":"player","world_id":"w1","name":"a\ud800","join_code":"JOINCODE"})") << u"bad_json"_s;
    QTest::newRow("name too long") << QByteArray(R"({"type":"Join","role":"player","world_id":"w1","name":")" + QByteArray(65, 'n') + R"(","join_code":"JOINCODE"})") << u"bad_message"_s;
    QTest::newRow("not a join first") << QByteArray(R"({"type":"Ping"})") << u"unauthorized"_s;
    QTest::newRow("garbage first") << QByteArray("\x01\x02") << u"bad_json"_s;
    const QByteArray withRecent = R"({"type":"Join","role":"player","world_id":"w1","name":"x","join_code":"JOINCODE","recent":)";
    QTest::newRow("recent as text") << QByteArray(withRecent + R"("5"})") << u"bad_message"_s;
    QTest::newRow("recent negative") << QByteArray(withRecent + "-1}") << u"bad_message"_s;
    QTest::newRow("recent too many") << QByteArray(withRecent + "201}") << u"bad_message"_s;
    QTest::newRow("recent fractional") << QByteArray(withRecent + "1.5}") << u"bad_message"_s;
    QTest::newRow("recent huge") << QByteArray(withRecent + "1e300}") << u"bad_message"_s;
    QTest::newRow("list before join") << QByteArray(R"({"type":"ListChallenges"})") << u"unauthorized"_s;
}

void TestSessionServer::badJoins()
{
    QFETCH(QByteArray, join);
    QFETCH(QString, code);
    startServer();
    auto c = connectClient();
    QVERIFY(c);
    c->ws.sendTextMessage(withW1Code(join));
    QTRY_COMPARE(c->closeCode, 1008);
    QCOMPARE(c->types(), QStringList{u"Error"_s});
    QCOMPARE(c->received.first().value(u"code"_s).toString(), code);
    QCOMPARE(m_server->clientCount(), 0);
}

void TestSessionServer::noJoinInTime()
{
    SessionConfig config;
    config.joinTimeoutMs = 1500;
    startServer(config);
    auto c = connectClient();
    QVERIFY(c);
    QTRY_COMPARE_WITH_TIMEOUT(c->closeCode, 1008, 10000);
    QCOMPARE(c->received.first().value(u"code"_s).toString(), u"unauthorized"_s);
}

void TestSessionServer::wrongFieldTypesKeepTheConnection()
{
    startServer();
    auto c = join(u"dm"_s, u"w1"_s);
    QVERIFY(c);
    c->received.clear();
    c->ws.sendTextMessage(u"[1,2"_s);
    c->send({{u"type"_s, u"ChallengeRoll"_s}, {u"challenge_id"_s, 5}, {u"character_id"_s, u"pc"_s}});
    c->send({{u"type"_s, u"ChallengeRoll"_s}, {u"challenge_id"_s, u"c"_s}, {u"character_id"_s, u"pc"_s}, {u"modifier"_s, 11}});
    c->send({{u"type"_s, u"Replay"_s}, {u"from_seq"_s, u"1"_s}, {u"to_seq"_s, 2}});
    c->send({{u"type"_s, u"Publish"_s}, {u"event"_s, u"text"_s}});
    c->send({{u"type"_s, u"Publish"_s}, {u"event"_s, QJsonObject{{u"type"_s, u"StoryEventCreated"_s}, {u"story_event_id"_s, u"s"_s}, {u"world_id"_s, u"w2"_s}, {u"event_type"_s, u"x"_s}}}});
    c->send({{u"type"_s, u"Join"_s}, {u"role"_s, u"dm"_s}, {u"world_id"_s, u"w1"_s}, {u"name"_s, u"again"_s}, {u"dm_token"_s, DmToken}});
    c->send({{u"type"_s, u"Ping"_s}, {u"nonce"_s, 42}});
    QTRY_COMPARE(c->received.size(), 8);
    QStringList codes;
    for (const QJsonObject &e : c->of(u"Error"_s))
        codes.append(e.value(u"code"_s).toString());
    QCOMPARE(codes, (QStringList{u"bad_json"_s, u"bad_message"_s, u"bad_message"_s, u"bad_message"_s, u"invalid_event"_s,
                                 u"forbidden"_s, u"bad_message"_s}));
    QCOMPARE(c->received.last(), (QJsonObject{{u"type"_s, u"Pong"_s}, {u"nonce"_s, 42}}));
    QCOMPARE(c->closeCode, -1);
}

void TestSessionServer::floodIsLimitedOthersUnaffected()
{
    startServer();
    auto flooder = join(u"player"_s, u"w1"_s);
    auto calm = join(u"player"_s, u"w1"_s);
    QVERIFY(flooder && calm);
    for (int i = 0; i < 200; ++i)
        flooder->send({{u"type"_s, u"Ping"_s}, {u"nonce"_s, i}});
    QTRY_COMPARE_WITH_TIMEOUT(flooder->closeCode, 1008, 10000);
    QVERIFY(!flooder->of(u"Error"_s).isEmpty());
    QCOMPARE(flooder->of(u"Error"_s).first().value(u"code"_s).toString(), u"rate_limited"_s);
    // The burst went through: the bucket's 40 tokens, less the one the Join took.
    QVERIFY2(flooder->of(u"Pong"_s).size() >= SessionConfig{}.burst - 1,
             qPrintable(u"%1 pongs"_s.arg(flooder->of(u"Pong"_s).size())));
    // The calm client still gets its answers and its events.
    calm->received.clear();
    calm->send({{u"type"_s, u"Ping"_s}, {u"nonce"_s, u"still here"_s}});
    QVERIFY(await(m_bus->publish(test::sampleEvent(EventKind::ChallengeResolved, true))).ok());
    QTRY_COMPARE(calm->received.size(), 2);
    QVERIFY(calm->types().contains(u"Pong"_s) && calm->types().contains(u"ChallengeResolved"_s));
}

void TestSessionServer::clientThatNeverReadsIsDropped()
{
    SessionConfig config;
    config.maxQueuedBytes = 1024 * 1024;
    startServer(config);
    // A raw socket that does the handshake and the Join, then never reads again.
    QTcpSocket raw;
    QVERIFY(rawDmJoin(raw, "sleepy"));
    raw.setReadBufferSize(1);
    QTRY_COMPARE(m_server->clientCount(), 1);
    auto watcher = this->join(u"dm"_s, u"*"_s);  // a reading client alongside
    QVERIFY(watcher);

    // Rounds of 600 KB (under the bound, so the reader keeps up) to a client
    // that reads none of them.
    QList<AppEvent> big;
    for (int i = 0; i < 10; ++i)
        big.append(events::SuggestionCompleted{u"r"_s, u"npc_backstory"_s, {QString(60000, u'x')}, std::nullopt});
    qint64 worstQueued = 0;
    for (int round = 0; round < 60 && m_server->clientCount() == 2; ++round) {
        QVERIFY(await(m_bus->publishBatch(big)).ok());
        // Wait until the reading client has this round, so the sleeper's backlog really builds.
        QVERIFY2(QTest::qWaitFor([&] { return watcher->received.size() >= 1 + (round + 1) * 10; }, 20000),
                 qPrintable(u"round %1: the reader has %2 messages"_s.arg(round).arg(watcher->received.size())));
        for (const ClientInfo &info : m_server->clients())
            worstQueued = std::max(worstQueued, info.bytesQueued);
    }
    QTRY_COMPARE(m_server->clientCount(), 1);  // the sleeper is gone, the reader stays
    QCOMPARE(m_server->clients().first().name, u"dm-*"_s);
    QVERIFY2(worstQueued < 4 * config.maxQueuedBytes, qPrintable(u"queued %1 bytes"_s.arg(worstQueued)));
}

// Frames go straight to the kernel while it takes them, and through Qt's
// buffer (then our queue) once it does not: a reader that stalls and comes
// back gets every event once, whole and in order, across that switch.
void TestSessionServer::slowReaderGetsEverythingInOrder()
{
    SessionConfig config;
    config.maxQueuedBytes = 64 * 1024 * 1024;  // this test is about order, not about dropping
    startServer(config);
    QTcpSocket raw;
    QVERIFY(rawDmJoin(raw, "slow"));
    QTRY_VERIFY(raw.bytesAvailable() > 0);  // Joined
    raw.setReadBufferSize(1);               // and now it stops reading

    // 8 MB of events, far past what the kernel buffers for one socket.
    QList<AppEvent> big;
    for (int i = 0; i < 20; ++i)
        big.append(events::SuggestionCompleted{u"r"_s, u"npc_backstory"_s, {QString(20000, u'x')}, std::nullopt});
    const int rounds = 20;
    for (int round = 0; round < rounds; ++round)
        QVERIFY(await(m_bus->publishBatch(big)).ok());
    // Qt (or our queue) holds part of it for this client: the slow path is in use.
    QTRY_VERIFY(!m_server->clients().isEmpty() && m_server->clients().first().bytesQueued > 0);

    raw.setReadBufferSize(0);
    QByteArray in;
    QList<qint64> seqs;
    const auto readFrames = [&] {
        in += raw.readAll();
        qsizetype pos = 0;
        while (in.size() - pos >= 2) {
            const auto *d = reinterpret_cast<const uchar *>(in.constData() + pos);
            qint64 len = d[1] & 0x7f;
            qsizetype header = 2;
            if (len == 126) {
                if (in.size() - pos < 4)
                    break;
                len = (qint64(d[2]) << 8) | d[3];
                header = 4;
            } else if (len == 127) {
                if (in.size() - pos < 10)
                    break;
                len = 0;
                for (int k = 0; k < 8; ++k)
                    len = (len << 8) | d[2 + k];
                header = 10;
            }
            if (in.size() - pos < header + len)
                break;
            const QJsonObject o = QJsonDocument::fromJson(in.mid(pos + header, len)).object();
            if (o.value(u"type"_s).toString() == u"SuggestionComplete"_s)
                seqs.append(o.value(u"seq"_s).toInteger());
            pos += header + len;
        }
        in.remove(0, pos);
        return seqs.size() >= rounds * big.size();
    };
    QVERIFY2(QTest::qWaitFor(readFrames, 30000),
             qPrintable(u"%1 events read, %2 bytes still queued"_s.arg(seqs.size()).arg(m_server->clients().value(0).bytesQueued)));
    QCOMPARE(seqs.size(), rounds * big.size());
    for (qsizetype i = 1; i < seqs.size(); ++i)
        QCOMPARE(seqs[i], seqs[i - 1] + 1);
    QCOMPARE(m_server->clientCount(), 1);
}

// A fan-out to many players takes a while; an event committed meanwhile is
// announced part way (Notifier::announcePending) and dispatched at once:
// the players not written yet get it with the event under way, those
// already written in the next turn. Each player still gets every event once,
// in order.
void TestSessionServer::appendsDuringAFanOutReachTheRestOfIt()
{
    HookedNotifier *notifier = startHookedServer();
    constexpr int Players = 80;  // more than two stretches of writes between the asks
    const std::vector<std::unique_ptr<Client>> players = joinPlayers(Players);
    QCOMPARE(players.size(), size_t(Players));
    for (const auto &p : players)
        p->received.clear();
    QTRY_COMPARE(m_server->clients().size(), Players);

    qint64 during = 0;
    notifier->onFirstAsk = [&] {
        // Committed by the store's thread while this thread is in the fan-out
        // (waiting here blocks no one: the store does not need this thread).
        QFuture<PublishResult> f = m_bus->publish(test::sampleEvent(EventKind::ChallengeResolved, true, u"w1"_s));
        f.waitForFinished();
        during = f.result().value();
    };
    const PublishResult first = await(m_bus->publish(test::sampleEvent(EventKind::StoryEventCreated, true, u"w1"_s)));
    QVERIFY(first.ok());
    QTRY_VERIFY2(during > 0, qPrintable(u"asked %1, first player got %2"_s.arg(notifier->asked).arg(players.front()->received.size())));
    QCOMPARE(notifier->announced, 1);
    for (const auto &p : players)
        QTRY_COMPARE(p->received.size(), 2);
    // And the next one as before, after the fan-out.
    const PublishResult after = await(m_bus->publish(test::sampleEvent(EventKind::NarrativeEventTriggered, true, u"w1"_s)));
    QVERIFY(after.ok());
    QVERIFY(notifier->asked >= Players / 32);

    const QList<qint64> expected{first.value(), during, after.value()};
    for (const auto &p : players) {
        QTRY_COMPARE(p->received.size(), 3);
        QList<qint64> seqs;
        for (const QJsonObject &m : p->received)
            seqs.append(m.value(u"seq"_s).toInteger());
        QCOMPARE(seqs, expected);
        QCOMPARE(p->types(), (QStringList{u"StoryEventCreated"_s, u"ChallengeResolved"_s, u"NarrativeEventTriggered"_s}));
    }
}

// Players who leave while the fan-out's loop runs (kicked from inside it, as
// a client over its backlog bound is dropped from inside a dispatch): the one
// the loop had passed and the one it had not reached each get what was queued
// before, the error and the close, nothing after; the loop passes over them,
// and every other player gets everything, in order.
void TestSessionServer::playersLeavingDuringAFanOut()
{
    HookedNotifier *notifier = startHookedServer();
    constexpr int Players = 40;
    const std::vector<std::unique_ptr<Client>> players = joinPlayers(Players);
    QCOMPARE(players.size(), size_t(Players));
    const QString passed = players.front()->received.first().value(u"client_id"_s).toString();
    const QString ahead = players.back()->received.first().value(u"client_id"_s).toString();
    for (const auto &p : players)
        p->received.clear();
    QTRY_COMPARE(m_server->clients().size(), Players);

    qint64 during = 0;
    notifier->onFirstAsk = [&] {
        QVERIFY(m_server->kick(passed));
        QVERIFY(m_server->kick(ahead));
        QFuture<PublishResult> f = m_bus->publish(test::sampleEvent(EventKind::ChallengeResolved, true, u"w1"_s));
        f.waitForFinished();
        during = f.result().value();
    };
    const PublishResult first = await(m_bus->publish(test::sampleEvent(EventKind::StoryEventCreated, true, u"w1"_s)));
    QVERIFY(first.ok());
    QTRY_VERIFY(during > 0);
    QCOMPARE(notifier->announced, 1);

    for (const Client *gone : {players.front().get(), players.back().get()}) {
        QTRY_COMPARE(gone->closeCode, 1008);
        QCOMPARE(gone->types(), (QStringList{u"StoryEventCreated"_s, u"Error"_s}));
        QCOMPARE(gone->received.last().value(u"code"_s).toString(), u"forbidden"_s);
    }
    QTRY_COMPARE(m_server->clientCount(), Players - 2);
    for (size_t i = 1; i + 1 < players.size(); ++i) {
        QTRY_COMPARE(players[i]->received.size(), 2);
        QCOMPARE(players[i]->received.at(0).value(u"seq"_s).toInteger(), first.value());
        QCOMPARE(players[i]->received.at(1).value(u"seq"_s).toInteger(), during);
        QCOMPARE(players[i]->closeCode, -1);
    }
}

// A client whose connection is reset while events stream to it: the direct
// write fails, Qt's path reports it, the client goes; the others get everything.
void TestSessionServer::vanishedReaderIsDroppedOthersUnaffected()
{
    startServer();
    auto watcher = join(u"dm"_s, u"*"_s);
    QVERIFY(watcher);
    QTcpSocket raw;
    QVERIFY(rawDmJoin(raw, "gone"));
    QTRY_COMPARE(m_server->clientCount(), 2);
    QList<AppEvent> batch;
    for (int i = 0; i < 20; ++i)
        batch.append(test::sampleEvent(EventKind::ChallengeResolved, true));
    QVERIFY(await(m_bus->publishBatch(batch)).ok());
    // Reset, not closed: SO_LINGER 0 makes the close an RST.
    const linger hard{1, 0};
    QCOMPARE(setsockopt(int(raw.socketDescriptor()), SOL_SOCKET, SO_LINGER, &hard, sizeof hard), 0);
    raw.abort();
    for (int round = 0; round < 5; ++round)
        QVERIFY(await(m_bus->publishBatch(batch)).ok());
    QTRY_COMPARE(m_server->clientCount(), 1);
    QTRY_COMPARE(watcher->of(u"ChallengeResolved"_s).size(), 6 * batch.size());
    QCOMPARE(watcher->closeCode, -1);
}

void TestSessionServer::clientLimitAndKick()
{
    SessionConfig config;
    config.maxClients = 2;
    startServer(config);
    auto a = join(u"player"_s, u"w1"_s);
    auto b = join(u"player"_s, u"w1"_s);
    QVERIFY(a && b);
    // A connection alone takes no place (it has its own budget): the third Join is refused.
    auto c = join(u"player"_s, u"w1"_s);
    QVERIFY(c);
    QTRY_COMPARE(c->closeCode, 1008);
    QVERIFY(c->received.first().value(u"message"_s).toString().contains(u"full"_s));

    QSignalSpy changed(m_server.get(), &SessionServer::clientsChanged);
    QVERIFY(m_server->kick(a->received.first().value(u"client_id"_s).toString()));
    QTRY_COMPARE(a->closeCode, 1008);
    QCOMPARE(a->received.last().value(u"code"_s).toString(), u"forbidden"_s);
    QTRY_COMPARE(m_server->clientCount(), 1);
    QVERIFY(changed.size() >= 1);
    QVERIFY(!m_server->kick(u"nobody"_s));
    // The audit entry is written on the store's writer thread: wait for it.
    QTRY_VERIFY(!await(m_store->desk()->auditLog(5))->isEmpty());
    QCOMPARE(await(m_store->desk()->auditLog(5))->first().action, u"kick"_s);
}

void TestSessionServer::refusalsAreCountedWithoutTheSecret()
{
    startServer();
    QSignalSpy changed(m_server.get(), &SessionServer::refusalsChanged);
    auto c = join(u"dm"_s, u"ravenmoor"_s, u"guessed-token-guessed-token-000"_s);
    QVERIFY(c);
    QTRY_COMPARE(c->closeCode, 1008);
    QCOMPARE(m_server->refusedCount(), 1);
    QVERIFY(changed.size() >= 1);
    const Refusal r = m_server->recentRefusals().last();
    QCOMPARE(r.address, u"127.0.0.1"_s);
    QCOMPARE(r.role, u"dm"_s);
    QCOMPARE(r.world, u"ravenmoor"_s);
    QCOMPARE(r.reason, u"wrong DM token"_s);
    QVERIFY(!r.reason.contains(u"guessed"_s));
    // The right token from the same address still gets in.
    auto dm = join(u"dm"_s, u"ravenmoor"_s);
    QVERIFY(dm);
    QCOMPARE(dm->types().first(), u"Joined"_s);
}

void TestSessionServer::pendingConnectionsHaveTheirOwnBudget()
{
    SessionConfig config;
    config.maxClients = 4;
    config.transport.maxPending = 6;
    config.transport.maxPendingPerAddress = 3;
    startServer(config);
    // Three silent sockets from one address fill its share; a fourth is turned away at once.
    std::vector<std::unique_ptr<QTcpSocket>> silent;
    for (int i = 0; i < 4; ++i) {
        auto s = std::make_unique<QTcpSocket>();
        QVERIFY(s->bind(QHostAddress(u"127.0.0.3"_s)));
        s->connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY(s->waitForConnected(5000));
        silent.push_back(std::move(s));
    }
    QTRY_COMPARE(m_server->transportCounters().refusedPerAddress, qint64(1));
    QTRY_COMPARE(m_server->pendingConnections(), 3);
    // Four joined clients (the cap) from 127.0.0.1: the pending ones take no seat.
    QList<std::shared_ptr<QWebSocket>> players;
    for (int i = 0; i < 4; ++i) {
        auto ws = std::make_shared<QWebSocket>();
        QSignalSpy connected(ws.get(), &QWebSocket::connected);
        QSignalSpy text(ws.get(), &QWebSocket::textMessageReceived);
        ws->open(m_server->url());
        QVERIFY(connected.wait(5000));
        ws->sendTextMessage(withW1Code(R"({"type":"Join","role":"player","world_id":"w1","name":"p","join_code":"JOINCODE"})"));
        QVERIFY(text.wait(5000));
        QVERIFY(text.first().first().toString().contains(u"Joined"_s));
        players.append(ws);
    }
    QCOMPARE(m_server->clientCount(), 4);
    QCOMPARE(m_server->pendingConnections(), 3);
    // The silent ones are cut off at the handshake deadline; the joined stay.
    QTRY_COMPARE_WITH_TIMEOUT(m_server->pendingConnections(), 0, 15000);
    QVERIFY(m_server->transportCounters().handshakeTimeouts >= 3);
    QCOMPARE(m_server->clientCount(), 4);
}

// Stop hosting: players are told the session ended (1001), not cut off.
void TestSessionServer::stoppingTellsThePlayers()
{
    startServer();
    auto a = join(u"player"_s, u"w1"_s);
    QVERIFY(a);
    m_server->close();
    QTRY_COMPARE(a->closeCode, 1001);
    QVERIFY(!m_server->isListening());
}

void TestSessionServer::codesAndTokens()
{
    QSet<QString> codes;
    for (int i = 0; i < 200; ++i) {
        const QString code = SessionServer::newJoinCode();
        QCOMPARE(code.size(), 8);
        for (QChar ch : code)
            QVERIFY2(!QStringLiteral("01OIL").contains(ch), qPrintable(code));
        codes.insert(code);
    }
    QVERIFY(codes.size() > 195);
    QCOMPARE(SessionServer::newDmToken().size(), 32);  // 128 bits, hex
}

void TestSessionServer::joinCodeStaysWithTheDatabase()
{
    startServer();
    DeskBook *book = m_store->desk();
    // First use: a code is made and kept; every later launch gets the same one.
    const SessionConfig first = SessionServer::withStoredJoinCode({}, book);
    QCOMPARE(first.joinCode.size(), 8);
    QCOMPARE(SessionServer::withStoredJoinCode({}, book).joinCode, first.joinCode);
    // One given on the command line wins, and is not stored.
    SessionConfig given;
    given.joinCode = u"GIVEN234"_s;
    QCOMPARE(SessionServer::withStoredJoinCode(given, book).joinCode, u"GIVEN234"_s);
    QCOMPARE(SessionServer::withStoredJoinCode({}, book).joinCode, first.joinCode);
    // New replaces it for good.
    SessionServer server(*m_store, *m_bus, *m_notifier, book, SessionServer::withStoredJoinCode({}, book));
    QCOMPARE(server.joinCode(), first.joinCode);
    const QString renewed = server.regenerateJoinCode();
    QVERIFY(renewed != first.joinCode);
    QTRY_COMPARE(SessionServer::withStoredJoinCode({}, book).joinCode, renewed);
    // Without EventDesk's own database there is nothing to keep: a fresh code each time.
    QVERIFY(SessionServer::withStoredJoinCode({}, nullptr).joinCode.isEmpty());
}

QTEST_GUILESS_MAIN(TestSessionServer)
// A code opens the world it was made for and no other; a world the log has
// never seen opens only once its first event arrives (or the DM opens it); the
// session port's metrics name no world.
void TestSessionServer::eachWorldHasItsOwnCode()
{
    startServer();
    const QUrl link = m_server->joinLink(u"w1"_s);
    QVERIFY2(link.query().contains(u"code="_s + worldCode(u"w1"_s)) && !link.query().contains(JoinCode), qPrintable(link.toString()));
    QVERIFY(worldCode(u"w1"_s) != worldCode(u"w2"_s));
    QCOMPARE(worldCode(u"w1"_s).size(), 8);

    // w9 has no event yet: its own right code is refused, as not found.
    auto early = join(u"player"_s, u"w9"_s);
    QVERIFY(early);
    QCOMPARE(early->received.first().value(u"code"_s).toString(), u"not_found"_s);
    QTRY_COMPARE(early->closeCode, 1008);
    // Its first event opens it.
    QSignalSpy added(m_server.get(), &SessionServer::worldAdded);
    QVERIFY(await(m_bus->publish(test::sampleEvent(EventKind::StoryEventCreated, true, u"w9"_s))).ok());
    QTRY_COMPARE(added.size(), 1);
    QCOMPARE(added.first().first().toString(), u"w9"_s);
    auto player = join(u"player"_s, u"w9"_s);
    QVERIFY(player);
    QCOMPARE(player->types(), QStringList{u"Joined"_s});
    // w9's code does not open w1.
    auto crossing = join(u"player"_s, u"w1"_s, worldCode(u"w9"_s));
    QVERIFY(crossing);
    QCOMPARE(crossing->received.first().value(u"code"_s).toString(), u"unauthorized"_s);
    QTRY_COMPARE(crossing->closeCode, 1008);

    // A world written by another process after listen(), never seen live yet, is found in the log.
    const QString uuid = ids::newUuid();
    QVERIFY(await(m_store->append({test::sampleEvent(EventKind::StoryEventCreated, true, uuid)})).ok());
    auto other = join(u"player"_s, uuid);
    QVERIFY(other);
    QCOMPARE(other->types(), QStringList{u"Joined"_s});

    // Metrics: the dedicated port's render names worlds, the session port's never.
    Metrics metrics(*m_store, *m_notifier);
    metrics.start();
    QTRY_VERIFY(metrics.isCounting());
    QVERIFY(await(m_bus->publish(test::sampleEvent(EventKind::ChallengeResolved, true, uuid))).ok());
    QTRY_VERIFY(metrics.render().contains(uuid.toUtf8()));
    const QByteArray hidden = metrics.render(Metrics::WorldLabels::Hidden);
    QVERIFY(!hidden.contains(uuid.toUtf8()));
    QVERIFY(!hidden.contains("world="));
    QVERIFY(hidden.contains("eventdesk_events_appended_total"));
}

// A request whose lines end in a bare LF (netcat, a hand-typed request) is
// answered, not left waiting for a CRLF that never comes.
void TestSessionServer::lfOnlyRequestsAreAnswered()
{
    startServer();
    for (const QByteArray &request : {QByteArray("GET /join HTTP/1.1\nHost: 127.0.0.1\n\n"),
                                      QByteArray("GET /join HTTP/1.1\r\nHost: 127.0.0.1\n\r\n"),
                                      QByteArray("GET /nowhere HTTP/1.1\nHost: 127.0.0.1\n\n")}) {
        QTcpSocket raw;
        raw.connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY(raw.waitForConnected(5000));
        raw.write(request);
        QByteArray answer;
        QVERIFY(QTest::qWaitFor([&] {
            raw.waitForReadyRead(50);
            answer += raw.readAll();
            return answer.contains("\r\n\r\n");
        }, 5000));
        const QByteArray expected = request.contains("nowhere") ? "HTTP/1.1 404" : "HTTP/1.1 200";
        QVERIFY2(answer.startsWith(expected), answer.left(80).constData());
    }
}

#include "tst_sessionserver.moc"

// What the player page asks for: the latest events of its world on a first
// visit (then live ones, no gap, no duplicate), the world's name, and the
// challenges it may roll (its world's only; a DM of "*" gets every world's).
void TestSessionServer::recentEventsAndChallengesForThePlayerPage()
{
    startServer();
    QList<AppEvent> events;
    for (int i = 0; i < 10; ++i) {
        events.append(test::sampleEvent(EventKind::StoryEventCreated, true, u"w1"_s));
        events.append(test::sampleEvent(EventKind::ChallengeResolved, true, u"w2"_s));
        events.append(test::sampleEvent(EventKind::GenerationBatchQueued, true, u"w1"_s));
    }
    const BatchPublishResult ids = await(m_bus->publishBatch(events));
    QVERIFY(ids.ok());
    QVERIFY(await(m_store->desk()->addChallenge(u"w1"_s, u"Pick the lock"_s, 12)).ok());
    QVERIFY(await(m_store->desk()->addChallenge(u"w2"_s, u"Swim the moat"_s, 8)).ok());
    m_server->setDisplayNames({{u"w1"_s, u"Ravenmoor"_s}});
    // The server has seen the batch go by before the page joins.
    auto watcher = join(u"dm"_s, u"*"_s);
    QVERIFY(watcher);
    QTRY_COMPARE(watcher->received.size(), 1);

    auto page = connectClient();
    QVERIFY(page);
    page->send({{u"type"_s, u"Join"_s}, {u"role"_s, u"player"_s}, {u"world_id"_s, u"w1"_s}, {u"name"_s, u"Sam"_s},
                {u"join_code"_s, worldCode(u"w1"_s)}, {u"recent"_s, 4}});
    QTRY_COMPARE(page->received.size(), 5);
    QCOMPARE(page->received.first().value(u"world_name"_s).toString(), u"Ravenmoor"_s);
    QList<qint64> story;  // the w1 story events' ids, oldest first
    for (qsizetype i = 0; i < events.size(); ++i)
        if (events.at(i).kind() == EventKind::StoryEventCreated)
            story.append(ids.value().at(i));
    for (int i = 0; i < 4; ++i) {
        QCOMPARE(page->received.at(1 + i).value(u"type"_s).toString(), u"StoryEventCreated"_s);
        QCOMPARE(page->received.at(1 + i).value(u"seq"_s).toInteger(), story.at(story.size() - 4 + i));
    }
    const qint64 next = await(m_bus->publish(test::sampleEvent(EventKind::StoryEventCreated, true, u"w1"_s))).value();
    QTRY_COMPARE(page->received.size(), 6);
    QCOMPARE(page->received.last().value(u"seq"_s).toInteger(), next);

    page->send({{u"type"_s, u"ListChallenges"_s}});
    QTRY_COMPARE(page->of(u"Challenges"_s).size(), 1);
    const QJsonArray mine = page->of(u"Challenges"_s).first().value(u"challenges"_s).toArray();
    QCOMPARE(mine.size(), 1);
    QCOMPARE(mine.first().toObject().value(u"name"_s).toString(), u"Pick the lock"_s);
    QCOMPARE(mine.first().toObject().value(u"difficulty"_s).toInt(), 12);
    watcher->send({{u"type"_s, u"ListChallenges"_s}});
    QTRY_COMPARE(watcher->of(u"Challenges"_s).size(), 1);
    QCOMPARE(watcher->of(u"Challenges"_s).first().value(u"challenges"_s).toArray().size(), 2);

    // recent is for a first visit: with last_seq, only what came after it.
    auto back = connectClient();
    QVERIFY(back);
    back->send({{u"type"_s, u"Join"_s}, {u"role"_s, u"player"_s}, {u"world_id"_s, u"w1"_s}, {u"name"_s, u"Sam"_s},
                {u"join_code"_s, worldCode(u"w1"_s)}, {u"recent"_s, 4}, {u"last_seq"_s, story.last()}});
    QTRY_COMPARE(back->received.size(), 2);
    QCOMPARE(back->received.last().value(u"seq"_s).toInteger(), next);
}
