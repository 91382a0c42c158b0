// What EventDesk knows of today's engine's messages (model/EngineMessages.h):
// every fixture built from the engine's struct definitions has its area and a
// line in words; at least 25 tags have a sentence of their own; a newer
// engine's tag still gets its tag and telling fields; the AppEvent-shaped
// tags map to their types; a stored row reads as an engine message.
#include "EngineMessages.h"
#include "EventCodec.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace eventdesk;

class TestEngineMessages : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void everyFixtureReadsInWords();
    void appEventShapedTags();
    void storedRowsAreEngineMessages();
};

void TestEngineMessages::everyFixtureReadsInWords()
{
    QFile f(QStringLiteral(EVENTDESK_TEST_FIXTURES "/engine/server_messages.jsonl"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QSet<QString> own, tags;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.trimmed().isEmpty())
            continue;
        const QJsonObject o = QJsonDocument::fromJson(line).object();
        const QString tag = o.value("type"_L1).toString();
        QVERIFY2(!tag.isEmpty(), line.constData());
        tags.insert(tag);
        const QString said = engine::summary(tag, o);
        QVERIFY2(!said.trimmed().isEmpty(), qPrintable(tag));
        QVERIFY2(!said.contains(u"{"_s), qPrintable(said));  // words, not JSON
        if (tag == u"HarbourBellRang"_s) {
            QVERIFY(!engine::areaOf(tag));
            QVERIFY2(said.startsWith(u"HarbourBellRang: "_s) && said.contains(u"rings 3"_s), qPrintable(said));
            continue;
        }
        QVERIFY2(engine::areaOf(tag), qPrintable(tag));
        if (!said.startsWith(tag + u':') && said != tag)
            own.insert(tag);
    }
    qInfo("%lld tags in the fixtures, %lld with a sentence of their own", qlonglong(tags.size()), qlonglong(own.size()));
    QVERIFY(tags.size() >= 40);
    QVERIFY(own.size() >= 25);
    QCOMPARE(engine::summary(u"DialogueResponse", QJsonObject{{u"speaker_name"_s, u"Mara"_s}, {u"text"_s, u"Hm."_s}}),
             u"Mara: “Hm.”"_s);
    QCOMPARE(engine::knownTags().size(), 89);  // the engine's 88, and EventDesk's gap
}

void TestEngineMessages::appEventShapedTags()
{
    QCOMPARE(engine::appEventKind(u"ChallengeResolved"), std::optional(EventKind::ChallengeResolved));
    QCOMPARE(engine::appEventKind(u"NarrativeEventTriggered"), std::optional(EventKind::NarrativeEventTriggered));
    QCOMPARE(engine::appEventKind(u"GenerationQueued"), std::optional(EventKind::GenerationBatchQueued));
    QCOMPARE(engine::appEventKind(u"SuggestionComplete"), std::optional(EventKind::SuggestionCompleted));
    QVERIFY(!engine::appEventKind(u"DialogueResponse"));
    EventQuery q;
    q.kinds = {EventKind::GenerationBatchQueued};
    QCOMPARE(q.typeNames(), (QStringList{u"GenerationBatchQueued"_s, u"GenerationQueued"_s}));
}

void TestEngineMessages::storedRowsAreEngineMessages()
{
    StoredEvent row;
    row.eventType = u"TimeModeChanged"_s;
    row.payload = R"({"type":"TimeModeChanged","world_id":"3f1c2a9e-8b7d-4c21-9a0e-5d6f7a8b9c01","mode":"Suggested"})";
    row.decode();
    QVERIFY(!row.event);
    QVERIFY(row.isEngineMessage());
    QCOMPARE(row.worldId(), u"3f1c2a9e-8b7d-4c21-9a0e-5d6f7a8b9c01"_s);
    StoredEvent roll;
    roll.eventType = u"ChallengeResolved"_s;
    roll.payload = R"({"type":"ChallengeResolved","challenge_id":"c","challenge_name":"Read Mara","character_name":"Kael","roll":14,"modifier":-2,"total":12,"outcome":"failure","outcome_description":"","roll_breakdown":null,"individual_rolls":null})";
    roll.decode();
    QVERIFY(roll.isEngineMessage());
    QCOMPARE(engine::rowSummary(roll), u"Kael — Read Mara: failure (14 − 2 = 12)"_s);
    EventQuery q;
    q.kinds = {EventKind::ChallengeResolved};
    QVERIFY(q.matches(roll));
    q.kinds.clear();
    q.tags = {u"TimeModeChanged"_s};
    QVERIFY(q.matches(row) && !q.matches(roll));
    // An AppEvent stays one.
    StoredEvent own;
    own.eventType = u"StoryEventCreated"_s;
    own.payload = R"({"type":"StoryEventCreated","story_event_id":"s","world_id":"w","event_type":"d"})";
    own.decode();
    QVERIFY(own.event && !own.isEngineMessage());
}

QTEST_GUILESS_MAIN(TestEngineMessages)
#include "tst_enginemessages.moc"
