// AppEvent → session message for all eleven variants, and who may receive what.
#include "SessionMessage.h"
#include "EventCodec.h"
#include "SampleEvents.h"

#include <QJsonDocument>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace eventdesk;

class TestSessionMessage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void designExample();
    void everyVariant_data();
    void everyVariant();
    void extraFieldsNeverShadowProtocolKeys();
    void routing_data();
    void routing();
};

void TestSessionMessage::designExample()
{
    const AppEvent e = events::ChallengeResolved{u"c1"_s, u"Pick the lock"_s, u"w1"_s, u"pc7"_s, true, 14, 17, std::nullopt};
    const QDateTime at = QDateTime::fromString(u"2026-11-26T20:01:02.345Z"_s, Qt::ISODateWithMs);
    const QByteArray msg = session::encodeEventMessage(e, {42, at, false});
    QCOMPARE(msg, QByteArray(R"({"type":"ChallengeResolved","event_id":42,"created_at":"2026-11-26T20:01:02.345Z",)"
                             R"("replay":false,"challenge_id":"c1","challenge_name":"Pick the lock","world_id":"w1",)"
                             R"("character_id":"pc7","success":true,"roll":14,"total":17})"));
}

void TestSessionMessage::everyVariant_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("type");
    const QStringList names = {u"StoryEventCreated"_s, u"NarrativeEventTriggered"_s, u"ChallengeResolved"_s,
                               u"GenerationQueued"_s, u"GenerationProgress"_s, u"GenerationComplete"_s,
                               u"GenerationFailed"_s, u"SuggestionQueued"_s, u"SuggestionProgress"_s,
                               u"SuggestionComplete"_s, u"SuggestionFailed"_s};
    for (EventKind k : test::allKinds())
        QTest::newRow(qPrintable(catalog::name(k))) << int(k) << names.at(int(k));
}

void TestSessionMessage::everyVariant()
{
    QFETCH(int, kind);
    QFETCH(QString, type);
    const AppEvent e = test::sampleEvent(EventKind(kind), true);
    const QDateTime at = QDateTime::currentDateTimeUtc();
    const QByteArray bytes = session::encodeEventMessage(e, {7, at, true});
    QJsonParseError err;
    const QJsonObject o = QJsonDocument::fromJson(bytes, &err).object();
    QCOMPARE(err.error, QJsonParseError::NoError);
    QCOMPARE(o.value(u"type"_s).toString(), type);
    QCOMPARE(o.value(u"event_id"_s).toInteger(), 7);
    QCOMPARE(o.value(u"replay"_s).toBool(), true);
    QCOMPARE(o.value(u"created_at"_s).toString(), at.toString(u"yyyy-MM-ddTHH:mm:ss.zzzZ"_s));
    QCOMPARE(o, session::eventMessage(e, {7, at, true}));
    const QJsonObject fields = codec::fieldsToJson(e);
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        // The narrative event's own id cannot take the protocol's event_id.
        const QString key = it.key() == u"event_id"_s ? u"narrative_event_id"_s : it.key();
        QCOMPARE(o.value(key), it.value());
    }
    QCOMPARE(o.size(), fields.size() + 4);
}

void TestSessionMessage::extraFieldsNeverShadowProtocolKeys()
{
    const auto r = codec::decode(R"({"type":"StoryEventCreated","story_event_id":"s","world_id":"w","event_type":"dm_marker","event_id":"evil","replay":"no","mood":"tense"})");
    QVERIFY(r.ok());
    const QJsonObject o = QJsonDocument::fromJson(session::encodeEventMessage(r.value(), {9, QDateTime::currentDateTimeUtc(), false})).object();
    QCOMPARE(o.value(u"event_id"_s).toInteger(), 9);
    QCOMPARE(o.value(u"replay"_s).toBool(true), false);
    QCOMPARE(o.value(u"mood"_s).toString(), u"tense"_s);
}

void TestSessionMessage::routing_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("eventWorld");   // "" = the event has no world
    // Expected for: player w1, player w2, dm w1, dm *
    QTest::addColumn<QString>("expected");

    for (EventKind k : test::allKinds()) {
        const VariantSpec &spec = catalog::spec(k);
        const bool playerVisible = spec.category == Category::Story || spec.category == Category::Narrative
            || spec.category == Category::Challenge;
        for (const QString &world : {u"w1"_s, QString()}) {
            if (spec.worldRequired && world.isEmpty())
                continue;
            if (!spec.hasWorld && !world.isEmpty())
                continue;
            QString expected;
            expected += (playerVisible && world == u"w1"_s) ? u'1' : u'0';  // player w1
            expected += u'0';                                                // player w2
            expected += u'1';                                                // dm w1: own world or global
            expected += u'1';                                                // dm *
            QTest::newRow(qPrintable(catalog::name(k) + (world.isEmpty() ? u" global"_s : u" w1"_s)))
                << int(k) << world << expected;
        }
    }
    // An event of another world reaches neither the w1 player nor the w1 dm.
    QTest::newRow("ChallengeResolved w3") << int(EventKind::ChallengeResolved) << u"w3"_s << u"0001"_s;
    QTest::newRow("SuggestionQueued w3") << int(EventKind::SuggestionQueued) << u"w3"_s << u"0001"_s;
}

void TestSessionMessage::routing()
{
    QFETCH(int, kind);
    QFETCH(QString, eventWorld);
    QFETCH(QString, expected);
    AppEvent e = test::sampleEvent(EventKind(kind), !eventWorld.isEmpty(), eventWorld.isEmpty() ? u"w1"_s : eventWorld);
    QCOMPARE(e.worldId(), eventWorld);
    QString got;
    got += session::mayReceive(session::Role::Player, u"w1"_s, e) ? u'1' : u'0';
    got += session::mayReceive(session::Role::Player, u"w2"_s, e) ? u'1' : u'0';
    got += session::mayReceive(session::Role::Dm, u"w1"_s, e) ? u'1' : u'0';
    got += session::mayReceive(session::Role::Dm, u"*"_s, e) ? u'1' : u'0';
    QCOMPARE(got, expected);
}

QTEST_GUILESS_MAIN(TestSessionMessage)
#include "tst_sessionmessage.moc"
