// AppEvent → session message for all eleven variants, and who may receive what.
#include "SessionMessage.h"
#include "EventCodec.h"
#include "SampleEvents.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace eventdesk;

class TestSessionMessage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void designExample();
    void engineClientsParse_data();
    void engineClientsParse();
    void everyVariant_data();
    void everyVariant();
    void extraFieldsNeverShadowProtocolKeys();
    void routing_data();
    void routing();
};

void TestSessionMessage::designExample()
{
    const AppEvent e = events::ChallengeResolved{u"c1"_s, u"Pick the lock"_s, u"w1"_s, u"pc7"_s, true, 14, 17, std::nullopt};
    const QHash<QString, QString> names{{u"pc7"_s, u"Aria"_s}};
    // created_at travels exactly as stored: nine digits and an offset stay nine digits and an offset.
    const QByteArray msg = session::encodeEventMessage(e, {42, u"2026-11-26T20:01:02.345678901+00:00"_s, false, &names});
    const QByteArray expected(R"j({"type":"ChallengeResolved","seq":42,"created_at":"2026-11-26T20:01:02.345678901+00:00",)j"
                             R"j("replay":false,"challenge_id":"c1","challenge_name":"Pick the lock","character_name":"Aria",)j"
                             R"j("roll":14,"modifier":3,"total":17,"outcome":"success",)j"
                             R"j("outcome_description":"Aria succeeded at Pick the lock (1d20(14) + 3 = 17)",)j"
                             R"j("roll_breakdown":"1d20(14) + 3 = 17","individual_rolls":[14],)j"
                             R"j("world_id":"w1","character_id":"pc7","success":true,"session_id":null})j");
    QVERIFY2(msg == expected, msg.constData());
}

// What the engine's own clients parse (its ServerMessage, serde): per message,
// each required field with its JSON type. Extra fields are allowed.
void TestSessionMessage::engineClientsParse_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QStringList>("required");  // "name:type", type one of string, integer, bool, array, string?
    const auto msg = [](const AppEvent &e) { return session::encodeEventMessage(e, {5, u"2026-11-26T03:04:05Z"_s, false}); };
    const QStringList challenge{u"challenge_id:string"_s, u"challenge_name:string"_s, u"character_name:string"_s,
                                u"roll:integer"_s, u"modifier:integer"_s, u"total:integer"_s, u"outcome:outcome"_s,
                                u"outcome_description:string"_s, u"roll_breakdown:string?"_s, u"individual_rolls:array"_s};
    QTest::newRow("ChallengeResolved, every field")
        << msg(events::ChallengeResolved{u"c1"_s, u"Climb"_s, u"w1"_s, u"pc1"_s, false, 3, 1, u"s1"_s}) << challenge;
    QTest::newRow("ChallengeResolved, Options absent")
        << msg(events::ChallengeResolved{std::nullopt, u"Climb"_s, u"w1"_s, u"pc1"_s, true, std::nullopt, std::nullopt, std::nullopt})
        << challenge;
    QTest::newRow("ChallengeResolved, natural 20")
        << msg(events::ChallengeResolved{u"c1"_s, u"Climb"_s, u"w1"_s, u"pc1"_s, true, 20, 22, std::nullopt}) << challenge;
    const QStringList narrative{u"event_id:string"_s, u"event_name:string"_s, u"outcome_description:string"_s,
                                u"scene_direction:string"_s};
    QTest::newRow("NarrativeEventTriggered")
        << msg(events::NarrativeEventTriggered{u"ne-9"_s, u"w1"_s, u"The bridge"_s, u"It falls"_s, std::nullopt}) << narrative;
    // The generation and suggestion messages carry the variant's fields as they are.
    for (EventKind k : test::allKinds()) {
        const Category c = catalog::category(k);
        if (c != Category::Generation && c != Category::Suggestion)
            continue;
        QStringList fields;
        for (const FieldSpec &f : catalog::spec(k).fields) {
            if (!f.required)
                continue;
            fields.append(f.name + u':'
                          + (f.type == ValueType::String ? u"string"_s
                             : f.type == ValueType::Integer ? u"integer"_s
                             : f.type == ValueType::Bool ? u"bool"_s
                                                          : u"array"_s));
        }
        QTest::newRow(qPrintable(catalog::messageName(k))) << msg(test::sampleEvent(k, false)) << fields;
    }
}

void TestSessionMessage::engineClientsParse()
{
    QFETCH(QByteArray, message);
    QFETCH(QStringList, required);
    QJsonParseError err;
    const QJsonObject o = QJsonDocument::fromJson(message, &err).object();
    QCOMPARE(err.error, QJsonParseError::NoError);
    QCOMPARE(o.value(u"seq"_s).toInteger(), 5);
    for (const QString &spec : required) {
        const QString name = spec.section(u':', 0, 0), type = spec.section(u':', 1);
        QVERIFY2(o.contains(name), qPrintable(u"%1 lacks %2: %3"_s.arg(o.value(u"type"_s).toString(), name, QString::fromUtf8(message))));
        const QJsonValue v = o.value(name);
        bool ok = false;
        if (type == u"string"_s)
            ok = v.isString();
        else if (type == u"string?"_s)
            ok = v.isString() || v.isNull();
        else if (type == u"integer"_s)
            ok = v.isDouble() && v.toDouble() == double(v.toInteger());
        else if (type == u"bool"_s)
            ok = v.isBool();
        else if (type == u"array"_s)
            ok = v.isArray();
        else if (type == u"outcome"_s)
            ok = QStringList{u"success"_s, u"failure"_s, u"critical_success"_s, u"critical_failure"_s}.contains(v.toString());
        QVERIFY2(ok, qPrintable(u"%1.%2 is not %3: %4"_s.arg(o.value(u"type"_s).toString(), name, type, QString::fromUtf8(message))));
    }
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
    const QString at = u"2026-11-26T03:04:05.190137281+00:00"_s;
    const QByteArray bytes = session::encodeEventMessage(e, {7, at, true});
    QJsonParseError err;
    const QJsonObject o = QJsonDocument::fromJson(bytes, &err).object();
    QCOMPARE(err.error, QJsonParseError::NoError);
    QCOMPARE(o.value(u"type"_s).toString(), type);
    QCOMPARE(o.value(u"seq"_s).toInteger(), 7);
    QCOMPARE(o.value(u"replay"_s).toBool(), true);
    QCOMPARE(o.value(u"created_at"_s).toString(), at);
    QCOMPARE(o, session::eventMessage(e, {7, at, true}));
    // Every field of the event is there under its own name; the narrative
    // event's id is the engine's event_id, its outcome also the outcome_description.
    const QJsonObject fields = codec::fieldsToJson(e);
    for (auto it = fields.begin(); it != fields.end(); ++it)
        QCOMPARE(o.value(it.key()), it.value());
}

void TestSessionMessage::extraFieldsNeverShadowProtocolKeys()
{
    const auto r = codec::decode(R"({"type":"StoryEventCreated","story_event_id":"s","world_id":"w","event_type":"dm_marker","seq":"evil","replay":"no","mood":"tense"})");
    QVERIFY(r.ok());
    const QJsonObject o = QJsonDocument::fromJson(session::encodeEventMessage(r.value(), {9, u"2026-11-26T03:04:05Z"_s, false})).object();
    QCOMPARE(o.value(u"seq"_s).toInteger(), 9);
    QCOMPARE(o.value(u"replay"_s).toBool(true), false);
    QCOMPARE(o.value(u"mood"_s).toString(), u"tense"_s);
    // Nor the engine fields a challenge message fills itself.
    const auto c = codec::decode(R"({"type":"ChallengeResolved","challenge_id":null,"challenge_name":"x","world_id":"w","character_id":"p","success":true,"roll":null,"total":null,"session_id":null,"outcome":"bogus","mood":"calm"})");
    QVERIFY(c.ok());
    const QJsonObject m = QJsonDocument::fromJson(session::encodeEventMessage(c.value(), {3, u"2026-11-26T03:04:05Z"_s, false})).object();
    QCOMPARE(m.value(u"outcome"_s).toString(), u"success"_s);
    QCOMPARE(m.value(u"mood"_s).toString(), u"calm"_s);
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
