// The AppEvent JSON codec: round trips in both tagged forms, the engine's own
// payloads, and a table of malformed and hostile inputs that must each give a
// clear error naming the field.
#include "EventCodec.h"
#include "Timestamp.h"
#include "SampleEvents.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace eventdesk;

Q_DECLARE_METATYPE(eventdesk::ErrorCode)

namespace {

QByteArray externalForm(const AppEvent &e)
{
    QJsonObject inner = codec::toJson(e);
    inner.remove(u"type"_s);
    return QJsonDocument(QJsonObject{{e.typeName(), inner}}).toJson(QJsonDocument::Compact);
}

const QByteArray validChallenge =
    R"({"type":"ChallengeResolved","challenge_name":"Pick the lock","world_id":"w1","character_id":"pc7","success":true,"roll":14,"total":17})";

QByteArray withField(const QByteArray &field, const QByteArray &value)
{
    // validChallenge with one field replaced (or added).
    QJsonObject o = QJsonDocument::fromJson(validChallenge).object();
    o.remove(QString::fromLatin1(field));
    QByteArray doc = QJsonDocument(o).toJson(QJsonDocument::Compact);
    doc.chop(1);
    return doc + ",\"" + field + "\":" + value + "}";
}

QByteArray without(const QByteArray &field)
{
    QJsonObject o = QJsonDocument::fromJson(validChallenge).object();
    o.remove(QString::fromLatin1(field));
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace

class TestEventCodec : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void engineFixturesRoundTripByteForByte();
    void absentOptionsAreWrittenAsNull();
    void timestampsAreInstants();
    void stringsAreEscapedUtf8();
    void roundTrip_data();
    void roundTrip();
    void engineOrderAndNulls();
    void engineFixture();
    void unknownFieldsKept();
    void malformed_data();
    void malformed();
    void wholeCharactersDecode();
    void checkRejectsWhatDecodeWould();
    void mutatedInputsNeverCrash();
};

void TestEventCodec::roundTrip_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<bool>("optionals");
    QTest::addColumn<bool>("external");
    for (EventKind k : test::allKinds()) {
        for (bool opt : {true, false}) {
            for (bool ext : {false, true}) {
                const QByteArray name = catalog::name(k).toLatin1() + (opt ? " all fields" : " required only")
                    + (ext ? " external" : " internal");
                QTest::newRow(name.constData()) << int(k) << opt << ext;
            }
        }
    }
}

void TestEventCodec::roundTrip()
{
    QFETCH(int, kind);
    QFETCH(bool, optionals);
    QFETCH(bool, external);
    const AppEvent original = test::sampleEvent(EventKind(kind), optionals);
    QVERIFY(original.isValid());
    const QByteArray text = external ? externalForm(original) : codec::encode(original);
    if (!external)
        QVERIFY2(text.startsWith(QByteArray("{\"type\":\"" + catalog::name(EventKind(kind)).toLatin1() + "\",")), text);
    const Result<AppEvent> back = codec::decode(text);
    QVERIFY2(back.ok(), qPrintable(back.ok() ? QString() : back.error().message));
    QCOMPARE(back.value(), original);
    QCOMPARE(back->kind(), EventKind(kind));
    // The compact writer and Qt's own agree on the content.
    QCOMPARE(QJsonDocument::fromJson(codec::encode(original)).object(), codec::toJson(original));
    // Every field is written, an absent Option as null (as serde writes it), in the catalog's order.
    const QByteArray encoded = codec::encode(original);
    qsizetype at = 0;
    for (const FieldSpec &f : catalog::spec(EventKind(kind)).fields) {
        const qsizetype pos = encoded.indexOf(QByteArray('"' + f.name.toLatin1() + "\":"), at);
        QVERIFY2(pos > at, qPrintable(u"%1 missing or out of order in %2"_s.arg(f.name, QString::fromUtf8(encoded))));
        at = pos;
        if (!f.required && !optionals)
            QVERIFY2(encoded.mid(pos + f.name.size() + 3, 4) == "null", encoded);
    }
}

void TestEventCodec::engineOrderAndNulls()
{
    const AppEvent e = test::sampleEvent(EventKind::ChallengeResolved, true);
    QCOMPARE(codec::encode(e),
             QByteArray(R"({"type":"ChallengeResolved","challenge_id":"c1","challenge_name":"Pick the lock",)"
                        R"("world_id":"w1","character_id":"pc7","success":true,"roll":14,"total":17,"session_id":"s-1"})"));
    // serde writes None as null: that decodes as absent.
    const auto r = codec::decode(R"({"type":"ChallengeResolved","challenge_id":null,"challenge_name":"x","world_id":"w","character_id":"c","success":false,"roll":null,"total":null,"session_id":null})");
    QVERIFY(r.ok());
    QVERIFY(!r->as<events::ChallengeResolved>()->roll.has_value());
    QVERIFY(!r->as<events::ChallengeResolved>()->challengeId.has_value());
}

void TestEventCodec::engineFixture()
{
    QFile file(QStringLiteral(EVENTDESK_TEST_DATA "/engine_payloads.jsonl"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QList<AppEvent> decoded;
    while (!file.atEnd()) {
        const QByteArray line = file.readLine().trimmed();
        if (line.isEmpty())
            continue;
        const Result<AppEvent> r = codec::decode(line);
        QVERIFY2(r.ok(), line.constData());
        decoded.append(r.value());
    }
    QCOMPARE(decoded.size(), 13);

    using namespace events;
    const QString world = u"8d0e4f6a-1b2c-4d3e-8f90-a1b2c3d4e5f6"_s;
    const QString session = u"5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c"_s;
    const QString batch = u"9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"_s;
    const QString request = u"7c6b5a49-3827-4165-9f8e-7d6c5b4a3928"_s;
    const QList<AppEvent> expected = {
        StoryEventCreated{u"6f1c2a9e-3b7d-4c1e-9a55-0d2f7e8b1c34"_s, world, u"dialogue"_s},
        NarrativeEventTriggered{u"0b7e1d2c-5a4f-4e3d-b2c1-9f8e7d6c5b4a"_s, world, u"The bridge collapses"_s,
                                u"Party falls into the river"_s, session},
        ChallengeResolved{u"c3a1b2d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"_s, u"Pick the lock"_s, world, u"pc7"_s, true, 14, 17,
                          session},
        ChallengeResolved{std::nullopt, u"Climb the cliff"_s, world, u"pc2"_s, false, std::nullopt, std::nullopt,
                          std::nullopt},
        GenerationBatchQueued{batch, u"character"_s, u"pc7"_s, u"portrait"_s, 2, std::nullopt},
        GenerationBatchProgress{batch, 55, session},
        GenerationBatchCompleted{batch, u"character"_s, u"pc7"_s, u"portrait"_s, 4, session},
        GenerationBatchFailed{u"1d2c3b4a-5f6e-4d7c-8b9a-0f1e2d3c4b5a"_s, u"location"_s, u"loc-harbor"_s,
                              u"backdrop"_s, u"ComfyUI returned 503: queue full"_s, std::nullopt},
        SuggestionQueued{request, u"npc_name"_s, u"npc-12"_s, world},
        SuggestionProgress{request, u"generating"_s, std::nullopt},
        SuggestionCompleted{request, u"npc_name"_s,
                            {u"Aldric Vane"_s, u"Mira \"Quickfingers\" Holt"_s, u"Séverine d’Arbois"_s}, world},
        SuggestionFailed{u"2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901"_s, u"location_description"_s,
                         u"model timed out after 30s"_s, std::nullopt},
    };
    for (qsizetype i = 0; i < expected.size(); ++i)
        QCOMPARE(decoded.at(i), expected.at(i));

    // The last line carries fields this catalog does not know: kept, in order of keys.
    const AppEvent &newer = decoded.last();
    QCOMPARE(newer.as<StoryEventCreated>()->eventType, u"scene_transition"_s);
    QCOMPARE(newer.extraFields().value(u"scene_id"_s).toString(), u"sc-9"_s);
    QCOMPARE(newer.extraFields().value(u"engine_version"_s).toString(), u"0.9.3"_s);

    QCOMPARE(decoded.at(2).summary(), u"pc7 succeeded at Pick the lock (14 → 17)"_s);
    QCOMPARE(decoded.at(3).summary(), u"pc2 failed at Climb the cliff"_s);
    QCOMPARE(decoded.at(4).worldId(), QString());
    QVERIFY(decoded.at(4).isGlobal());
    QCOMPARE(decoded.at(5).sessionId(), session);
    QCOMPARE(decoded.at(8).worldId(), world);
    QCOMPARE(decoded.at(9).worldId(), QString());
}

void TestEventCodec::unknownFieldsKept()
{
    const QByteArray text = R"({"type":"SuggestionProgress","request_id":"r","status":"s","mood":{"tone":"grim","level":3},"tags":["a",1,null]})";
    const auto r = codec::decode(text);
    QVERIFY(r.ok());
    QCOMPARE(r->extraFields().size(), 2);
    const auto again = codec::decode(codec::encode(r.value()));
    QVERIFY(again.ok());
    QCOMPARE(again.value(), r.value());
    QJsonObject expected = QJsonDocument::fromJson(text).object();
    expected.insert(u"world_id"_s, QJsonValue::Null);  // the absent Option, written as serde writes it
    QCOMPARE(QJsonDocument::fromJson(codec::encode(r.value())).object(), expected);
}

void TestEventCodec::malformed_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<ErrorCode>("code");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("says");

    const QString none;
    const auto row = [](const char *name) -> QTestData & { return QTest::newRow(name); };
    row("empty") << QByteArray() << ErrorCode::BadJson << none << u"empty"_s;
    row("whitespace only") << QByteArray(" \n\t ") << ErrorCode::BadJson << none << u"empty"_s;
    row("null") << QByteArray("null") << ErrorCode::BadJson << none << u"expected one JSON object, but the input starts with 'n'"_s;
    row("array") << QByteArray("[]") << ErrorCode::BadJson << none << u"an array"_s;
    row("number") << QByteArray("42") << ErrorCode::BadJson << none << u"one JSON object"_s;
    row("string") << QByteArray("\"ChallengeResolved\"") << ErrorCode::BadJson << none << u"one JSON object"_s;
    row("lone brace") << QByteArray("{") << ErrorCode::BadJson << none << u"not valid JSON"_s;
    row("truncated") << validChallenge.left(40) << ErrorCode::BadJson << none << u"not valid JSON"_s;
    row("trailing garbage") << QByteArray(validChallenge + " x") << ErrorCode::BadJson << none << u"not valid JSON"_s;
    row("two objects") << QByteArray(validChallenge + validChallenge) << ErrorCode::BadJson << none << u"not valid JSON"_s;
    row("invalid UTF-8") << withField("character_id", "\"\xff\xfe\"") << ErrorCode::BadJson << none << u"UTF-8"_s;
    row("overlong UTF-8") << withField("character_id", "\"\xc0\xaf\"") << ErrorCode::BadJson << none << u"UTF-8"_s;
    row("truncated UTF-8") << withField("character_id", "\"\xe2\x82\"") << ErrorCode::BadJson << none << u"UTF-8"_s;
    row("lone high surrogate") << withField("character_id", R"("a\ud800")") << ErrorCode::BadJson << none << u"lone surrogate \\ud800"_s;
    row("lone low surrogate") << withField("character_id", R"("\udc00b")") << ErrorCode::BadJson << none << u"lone surrogate \\udc00"_s;
    row("swapped surrogates") << withField("character_id", R"("\udc00\ud800")") << ErrorCode::BadJson << none << u"lone surrogate"_s;
    row("high surrogate then text") << withField("character_id", R"("\ud83dx")") << ErrorCode::BadJson << none << u"lone surrogate"_s;
    row("nested 33 deep") << withField("extra", QByteArray(32, '[') + QByteArray(32, ']'))
                          << ErrorCode::BadJson << none << u"deeper than 32"_s;
    row("nested 100000 deep") << QByteArray(100000, '[') << ErrorCode::BadJson << none << u"deeper than 32"_s;
    row("2 MiB document") << withField("extra", '"' + QByteArray(2 * 1024 * 1024, 'a') + '"')
                          << ErrorCode::TooLarge << none << u"over the limit"_s;
    row("string over 64 KiB") << withField("character_id", '"' + QByteArray(64 * 1024 + 1, 'a') + '"')
                              << ErrorCode::TooLarge << u"character_id"_s << u"64 KiB"_s;
    row("multibyte string over 64 KiB") << withField("challenge_name", '"' + QByteArrayView("é").toByteArray().repeated(33000) + '"')
                                        << ErrorCode::TooLarge << u"challenge_name"_s << u"64 KiB"_s;
    row("extra field over 64 KiB") << withField("notes", '"' + QByteArray(70000, 'n') + '"')
                                   << ErrorCode::TooLarge << u"notes"_s << u"64 KiB"_s;
    row("suggestion over 64 KiB") << QByteArray(R"({"type":"SuggestionCompleted","request_id":"r","field_type":"f","suggestions":[")") + QByteArray(70000, 's') + "\"]}"
                                  << ErrorCode::TooLarge << u"suggestions[0]"_s << u"64 KiB"_s;
    row("empty object") << QByteArray("{}") << ErrorCode::InvalidEvent << u"type"_s << u"missing field \"type\""_s;
    row("no type") << without("type") << ErrorCode::InvalidEvent << u"type"_s << u"missing field \"type\""_s;
    row("type is a number") << withField("type", "3") << ErrorCode::InvalidEvent << u"type"_s << u"must be a string"_s;
    row("type is null") << withField("type", "null") << ErrorCode::InvalidEvent << u"type"_s << u"must be a string"_s;
    row("unknown variant") << withField("type", "\"DragonSlain\"") << ErrorCode::InvalidEvent << u"type"_s << u"unknown event variant \"DragonSlain\""_s;
    row("wrong case variant") << withField("type", "\"challengeresolved\"") << ErrorCode::InvalidEvent << u"type"_s << u"unknown event variant"_s;
    row("message name is not a variant") << withField("type", "\"GenerationComplete\"") << ErrorCode::InvalidEvent << u"type"_s << u"unknown event variant"_s;
    row("external unknown variant") << QByteArray(R"({"DragonSlain":{"world_id":"w"}})") << ErrorCode::InvalidEvent << u"type"_s << u"unknown event variant"_s;
    row("external holds a number") << QByteArray(R"({"ChallengeResolved":5})") << ErrorCode::InvalidEvent << u"ChallengeResolved"_s << u"must hold an object"_s;
    row("external two variants") << QByteArray(R"({"StoryEventCreated":{},"ChallengeResolved":{}})") << ErrorCode::InvalidEvent << u"type"_s << u"missing field \"type\""_s;
    row("external missing field") << QByteArray(R"({"StoryEventCreated":{"story_event_id":"s","world_id":"w"}})") << ErrorCode::InvalidEvent << u"event_type"_s << u"missing required field \"event_type\" of StoryEventCreated"_s;
    row("missing challenge_name") << without("challenge_name") << ErrorCode::InvalidEvent << u"challenge_name"_s << u"missing required field \"challenge_name\""_s;
    row("required world_id null") << withField("world_id", "null") << ErrorCode::InvalidEvent << u"world_id"_s << u"missing required field \"world_id\""_s;
    row("success as string") << withField("success", "\"true\"") << ErrorCode::InvalidEvent << u"success"_s << u"must be true or false, not a string"_s;
    row("success as number") << withField("success", "1") << ErrorCode::InvalidEvent << u"success"_s << u"must be true or false, not a number"_s;
    row("roll as string") << withField("roll", "\"14\"") << ErrorCode::InvalidEvent << u"roll"_s << u"must be an integer, not a string"_s;
    row("roll as fraction") << withField("roll", "14.5") << ErrorCode::InvalidEvent << u"roll"_s << u"must be an integer"_s;
    row("roll as bool") << withField("roll", "true") << ErrorCode::InvalidEvent << u"roll"_s << u"must be an integer, not a bool"_s;
    row("roll past i32") << withField("roll", "3000000000") << ErrorCode::InvalidEvent << u"roll"_s << u"out of range"_s;
    row("total past 64 bits") << withField("total", "99999999999999999999") << ErrorCode::InvalidEvent << u"total"_s << u"must be an integer"_s;
    row("total 1e100") << withField("total", "1e100") << ErrorCode::InvalidEvent << u"total"_s << u"must be an integer"_s;
    row("character_id as object") << withField("character_id", "{\"id\":1}") << ErrorCode::InvalidEvent << u"character_id"_s << u"must be a string, not an object"_s;
    row("session_id as number") << withField("session_id", "7") << ErrorCode::InvalidEvent << u"session_id"_s << u"must be a string, not a number"_s;
    row("progress over 255 (the engine's u8)") << QByteArray(R"({"type":"GenerationBatchProgress","batch_id":"b","progress":256})") << ErrorCode::InvalidEvent << u"progress"_s << u"out of range: 256 is not in 0..255"_s;
    row("progress negative") << QByteArray(R"({"type":"GenerationBatchProgress","batch_id":"b","progress":-1})") << ErrorCode::InvalidEvent << u"progress"_s << u"out of range"_s;
    row("position negative") << QByteArray(R"({"type":"GenerationBatchQueued","batch_id":"b","entity_type":"e","entity_id":"i","asset_type":"a","position":-3})") << ErrorCode::InvalidEvent << u"position"_s << u"out of range"_s;
    row("asset_count negative") << QByteArray(R"({"type":"GenerationBatchCompleted","batch_id":"b","entity_type":"e","entity_id":"i","asset_type":"a","asset_count":-1})") << ErrorCode::InvalidEvent << u"asset_count"_s << u"out of range"_s;
    row("asset_count past u32") << QByteArray(R"({"type":"GenerationBatchCompleted","batch_id":"b","entity_type":"e","entity_id":"i","asset_type":"a","asset_count":4294967296})") << ErrorCode::InvalidEvent << u"asset_count"_s << u"out of range"_s;
    row("suggestions not an array") << QByteArray(R"({"type":"SuggestionCompleted","request_id":"r","field_type":"f","suggestions":"Aldric"})") << ErrorCode::InvalidEvent << u"suggestions"_s << u"must be an array of strings"_s;
    row("suggestion not a string") << QByteArray(R"({"type":"SuggestionCompleted","request_id":"r","field_type":"f","suggestions":["a",2]})") << ErrorCode::InvalidEvent << u"suggestions[1]"_s << u"must be a string, not a number"_s;
    row("raw NUL byte") << QByteArray("{\"type\":\0\"x\"}", 13) << ErrorCode::BadJson << none << u"not valid JSON"_s;
    row("raw newline in string") << withField("character_id", "\"a\nb\"") << ErrorCode::BadJson << none << u"raw control character"_s;
    row("comment") << QByteArray("// engine\n" + validChallenge) << ErrorCode::BadJson << none << u"expected one JSON object, but the input starts with '/'"_s;
    row("single quotes") << QByteArray("{'type':'ChallengeResolved'}") << ErrorCode::BadJson << none << u"not valid JSON"_s;
    row("NaN") << withField("roll", "NaN") << ErrorCode::BadJson << none << u"not valid JSON"_s;
}

// An escaped pair is one character; "\\ud800" is a backslash and text, not an escape.
void TestEventCodec::wholeCharactersDecode()
{
    const QByteArray pair = R"({"type":"StoryEventCreated","story_event_id":"s","world_id":"w","event_type":"smile \ud83d\ude00"})";
    Result<AppEvent> r = codec::decode(pair);
    QVERIFY2(r.ok(), qPrintable(r ? QString() : r.error().message));
    QVERIFY(QString::fromUtf8(codec::encode(*r)).contains(u"smile 😀"_s));
    const QByteArray backslash = R"({"type":"StoryEventCreated","story_event_id":"s","world_id":"w","event_type":"C:\\ud800"})";
    r = codec::decode(backslash);
    QVERIFY2(r.ok(), qPrintable(r ? QString() : r.error().message));
}

void TestEventCodec::malformed()
{
    QFETCH(QByteArray, input);
    QFETCH(ErrorCode, code);
    QFETCH(QString, field);
    QFETCH(QString, says);
    const Result<AppEvent> r = codec::decode(input);
    QVERIFY2(!r.ok(), "accepted");
    QVERIFY2(r.error().message.contains(says), qPrintable(r.error().message));
    QCOMPARE(r.error().field, field);
    QCOMPARE(r.error().code, code);
    QVERIFY(r.error().message.size() < 300);  // one clear line, not an echo of the input
}

void TestEventCodec::checkRejectsWhatDecodeWould()
{
    events::GenerationBatchProgress p{u"b"_s, 256, std::nullopt};
    QVERIFY(!codec::check(events::GenerationBatchProgress{u"b"_s, 255, std::nullopt}).has_value());  // u8: 255 is fine
    auto e = codec::check(p);
    QVERIFY(e.has_value());
    QCOMPARE(e->field, u"progress"_s);
    events::StoryEventCreated s{u"s"_s, u"w"_s, QString(70000, u'x')};
    e = codec::check(s);
    QVERIFY(e.has_value());
    QCOMPARE(e->code, ErrorCode::TooLarge);
    QVERIFY(codec::check(AppEvent()).has_value());
    for (EventKind k : test::allKinds())
        QVERIFY(!codec::check(test::sampleEvent(k, true)).has_value());
}

void TestEventCodec::mutatedInputsNeverCrash()
{
    // Cheap stand-in for the fuzzer inside the unit suite: flip, drop and
    // duplicate bytes of valid documents; every result is a value or an error.
    QRandomGenerator rng(20261127);
    QList<QByteArray> seeds;
    for (EventKind k : test::allKinds())
        seeds.append(codec::encode(test::sampleEvent(k, true)));
    int accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        QByteArray doc = seeds.at(rng.bounded(int(seeds.size())));
        const int edits = 1 + rng.bounded(4);
        for (int j = 0; j < edits && !doc.isEmpty(); ++j) {
            const int at = rng.bounded(int(doc.size()));
            switch (rng.bounded(3)) {
            case 0: doc[at] = char(rng.bounded(256)); break;
            case 1: doc.remove(at, 1 + rng.bounded(8)); break;
            default: doc.insert(at, doc.mid(at, 1 + rng.bounded(16))); break;
            }
        }
        const Result<AppEvent> r = codec::decode(doc);
        if (r.ok()) {
            ++accepted;
            QVERIFY(codec::decode(codec::encode(r.value())).ok());
        } else {
            QVERIFY(!r.error().message.isEmpty());
        }
    }
    QVERIFY(accepted > 0);
}

namespace {
QList<QByteArray> fixtureLines(const char *name)
{
    QFile f(QStringLiteral(EVENTDESK_TEST_FIXTURES "/") + QLatin1StringView(name));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QList<QByteArray> lines;
    for (const QByteArray &l : f.readAll().split('\n'))
        if (!l.isEmpty() && !l.startsWith('#'))
            lines.append(l);
    return lines;
}
} // namespace

// Rows in the engine's exact serde form (every variant, Options set and null):
// decoded and encoded again, they are the same bytes.
void TestEventCodec::engineFixturesRoundTripByteForByte()
{
    for (const char *name : {"engine_options_set.jsonl", "engine_options_null.jsonl"}) {
        const QList<QByteArray> lines = fixtureLines(name);
        QCOMPARE(lines.size(), EventKindCount);
        for (const QByteArray &line : lines) {
            const Result<AppEvent> e = codec::decode(line);
            QVERIFY2(e.ok(), line.constData());
            QCOMPARE(codec::encode(e.value()), line);
        }
    }
    // progress is the engine's u8: 200 is a value, not an error.
    const Result<AppEvent> p = codec::decode(fixtureLines("engine_options_set.jsonl").at(4));
    QVERIFY(p.ok());
    QCOMPARE(p->as<events::GenerationBatchProgress>()->progress, 200);
}

// An Option left out (as older writers did) reads the same and is written as serde would: null.
void TestEventCodec::absentOptionsAreWrittenAsNull()
{
    const QList<QByteArray> absent = fixtureLines("engine_options_absent.jsonl");
    const QList<QByteArray> nulls = fixtureLines("engine_options_null.jsonl");
    QCOMPARE(absent.size(), EventKindCount);
    for (qsizetype i = 0; i < absent.size(); ++i) {
        const Result<AppEvent> a = codec::decode(absent.at(i));
        const Result<AppEvent> n = codec::decode(nulls.at(i));
        QVERIFY(a.ok() && n.ok());
        QCOMPARE(a.value(), n.value());
        QCOMPARE(codec::encode(a.value()), nulls.at(i));
    }
}

void TestEventCodec::timestampsAreInstants()
{
    const QList<QByteArray> lines = fixtureLines("timestamps.tsv");
    QVERIFY(lines.size() >= 10);
    for (const QByteArray &line : lines) {
        const QList<QByteArray> cols = line.split('\t');
        const std::optional<qint64> ns = timestamp::parseNanos(QString::fromUtf8(cols.at(0)));
        QVERIFY2(ns.has_value(), cols.at(0).constData());
        QCOMPARE(*ns, cols.at(1).toLongLong());
    }
    for (const QString &bad : {u""_s, u"yesterday"_s, u"2026-13-01T00:00:00Z"_s, u"2026-02-30T00:00:00Z"_s,
                               u"2026-11-26T03:04Z"_s, u"2026-11-26T03:04:05.Z"_s, u"2026-11-26T03:04:05+0100"_s,
                               u"2026-11-26T24:00:00Z"_s, u"2026-11-26T03:04:05Z trailing"_s})
        QVERIFY2(!timestamp::parseNanos(bad).has_value(), qPrintable(bad));
    // Ordered as instants, not as text: "+00:00" sorts after "Z" as text, yet is the same moment.
    QCOMPARE(timestamp::parseNanos(u"2026-11-26T03:04:05+00:00"_s), timestamp::parseNanos(u"2026-11-26T03:04:05Z"_s));
    QVERIFY(*timestamp::parseNanos(u"2026-11-26T03:04:05.123456+00:00"_s) > *timestamp::parseNanos(u"2026-11-26T03:04:05.123Z"_s));
    // The commit stamp, made without QDateTime, reads as now.
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    const QByteArray stamp = timestamp::nowUtf8();
    const qint64 after = QDateTime::currentMSecsSinceEpoch();
    QCOMPARE(stamp.size(), 24);
    const std::optional<qint64> stamped = timestamp::parseNanos(QString::fromUtf8(stamp));
    QVERIFY2(stamped && *stamped / 1'000'000 >= before && *stamped / 1'000'000 <= after, stamp.constData());
    // Far cutoffs saturate instead of wrapping.
    QCOMPARE(*timestamp::parseNanos(u"2999-01-01T00:00:00Z"_s), std::numeric_limits<qint64>::max());
}

// Strings are written straight from UTF-16: the same bytes as QString's own
// UTF-8 (a lone surrogate becomes '?'), JSON escapes for quotes,
// backslashes and control characters, and read back unchanged.
void TestEventCodec::stringsAreEscapedUtf8()
{
    const auto reference = [](const QString &text) -> QByteArray {
        QByteArray out = "\"";
        for (const char ch : text.toUtf8()) {
            const auto c = static_cast<unsigned char>(ch);
            static const QHash<char, QByteArray> shortForms = {{'"', "\\\""}, {'\\', "\\\\"}, {'\n', "\\n"},
                                                               {'\r', "\\r"}, {'\t', "\\t"}, {'\b', "\\b"}, {'\f', "\\f"}};
            if (shortForms.contains(ch))
                out += shortForms.value(ch);
            else if (c < 0x20)
                out += QByteArray("\\u00") + QByteArray::number(c, 16).rightJustified(2, '0');
            else
                out += ch;
        }
        return out + '"';
    };
    QList<QString> samples = {u""_s, u"plain"_s, u"quote \" and back\\slash"_s, u"tab\tnew\nline\r\b\f"_s,
                              QString(QChar(0x01)) + QChar(0x1f) + QChar(0x7f), u"café ünïcödé"_s, u"ドラゴン"_s,
                              u"dice 🎲 and 🐉"_s, QString(QChar(0xd83c)) + u"lone high"_s, u"lone low"_s + QChar(0xdc00),
                              QString(QChar(0xdc00)) + QChar(0xd800), QString(70000, QChar(u'é'))};
    QRandomGenerator rng(17);
    for (int i = 0; i < 200; ++i) {
        QString random;
        for (int j = 0; j < 40; ++j)
            random += QChar(char16_t(rng.bounded(0x10000)));
        samples.append(random);
    }
    for (const QString &text : samples) {
        QByteArray out = "x";
        codec::appendString(out, text);
        const QByteArray expected = reference(text);
        QCOMPARE(out.mid(1), expected);
        // Every escape is one JSON reads back to the same text (where the text is valid UTF-16).
        const QJsonDocument doc = QJsonDocument::fromJson("[" + out.mid(1) + "]");
        QVERIFY(doc.isArray());
        if (QString::fromUtf8(text.toUtf8()) == text)
            QCOMPARE(doc.array().at(0).toString(), text);
    }
}

QTEST_GUILESS_MAIN(TestEventCodec)
#include "tst_eventcodec.moc"
