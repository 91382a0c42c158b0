// The event catalog matches DESIGN §3 exactly: variants, fields, types,
// optional fields, categories, message names and world scope.
#include "EventCatalog.h"
#include "EventCodec.h"
#include "SampleEvents.h"

#include <QJsonDocument>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace eventdesk;

class TestEventCatalog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void matchesDesign_data();
    void matchesDesign();
    void lookups();
    void sampleEventsUseEveryField();
};

void TestEventCatalog::matchesDesign_data()
{
    QTest::addColumn<QString>("variant");
    QTest::addColumn<QString>("fields");   // DESIGN §3 notation, '?' for optional
    QTest::addColumn<QString>("category");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("world");    // "yes", "no", "if"

    QTest::newRow("1") << u"StoryEventCreated"_s << u"story_event_id world_id event_type"_s << u"story"_s << u"StoryEventCreated"_s << u"yes"_s;
    QTest::newRow("2") << u"NarrativeEventTriggered"_s << u"event_id world_id event_name outcome_name session_id?"_s << u"narrative"_s << u"NarrativeEventTriggered"_s << u"yes"_s;
    QTest::newRow("3") << u"ChallengeResolved"_s << u"challenge_id? challenge_name world_id character_id success roll? total? session_id?"_s << u"challenge"_s << u"ChallengeResolved"_s << u"yes"_s;
    QTest::newRow("4") << u"GenerationBatchQueued"_s << u"batch_id entity_type entity_id asset_type position session_id?"_s << u"generation"_s << u"GenerationQueued"_s << u"no"_s;
    QTest::newRow("5") << u"GenerationBatchProgress"_s << u"batch_id progress session_id?"_s << u"generation"_s << u"GenerationProgress"_s << u"no"_s;
    QTest::newRow("6") << u"GenerationBatchCompleted"_s << u"batch_id entity_type entity_id asset_type asset_count session_id?"_s << u"generation"_s << u"GenerationComplete"_s << u"no"_s;
    QTest::newRow("7") << u"GenerationBatchFailed"_s << u"batch_id entity_type entity_id asset_type error session_id?"_s << u"generation"_s << u"GenerationFailed"_s << u"no"_s;
    QTest::newRow("8") << u"SuggestionQueued"_s << u"request_id field_type entity_id? world_id?"_s << u"suggestion"_s << u"SuggestionQueued"_s << u"if"_s;
    QTest::newRow("9") << u"SuggestionProgress"_s << u"request_id status world_id?"_s << u"suggestion"_s << u"SuggestionProgress"_s << u"if"_s;
    QTest::newRow("10") << u"SuggestionCompleted"_s << u"request_id field_type suggestions world_id?"_s << u"suggestion"_s << u"SuggestionComplete"_s << u"if"_s;
    QTest::newRow("11") << u"SuggestionFailed"_s << u"request_id field_type error world_id?"_s << u"suggestion"_s << u"SuggestionFailed"_s << u"if"_s;
}

void TestEventCatalog::matchesDesign()
{
    QFETCH(QString, variant);
    QFETCH(QString, fields);
    QFETCH(QString, category);
    QFETCH(QString, message);
    QFETCH(QString, world);

    const auto kind = catalog::kindFromName(variant);
    QVERIFY(kind);
    QCOMPARE(int(*kind), QString::fromLatin1(QTest::currentDataTag()).toInt() - 1);
    const VariantSpec &spec = catalog::spec(*kind);
    QStringList names;
    for (const FieldSpec &f : spec.fields)
        names.append(f.name + (f.required ? QString() : u"?"_s));
    QCOMPARE(names.join(u' '), fields);
    QCOMPARE(catalog::categoryName(spec.category), category);
    QCOMPARE(spec.messageName, message);
    QCOMPARE(spec.hasWorld, world != u"no"_s);
    QCOMPARE(spec.worldRequired, world == u"yes"_s);

    // Integer fields and their bounds.
    const QHash<QString, std::pair<qint64, qint64>> bounds = {
        {u"roll"_s, {INT_MIN, INT_MAX}}, {u"total"_s, {INT_MIN, INT_MAX}},
        {u"position"_s, {0, 4294967295LL}}, {u"asset_count"_s, {0, 4294967295LL}},
        {u"progress"_s, {0, 255}}};
    for (const FieldSpec &f : spec.fields) {
        if (bounds.contains(f.name)) {
            QCOMPARE(f.type, ValueType::Integer);
            QCOMPARE(f.minimum, bounds[f.name].first);
            QCOMPARE(f.maximum, bounds[f.name].second);
        } else if (f.name == u"success"_s) {
            QCOMPARE(f.type, ValueType::Bool);
        } else if (f.name == u"suggestions"_s) {
            QCOMPARE(f.type, ValueType::StringList);
        } else {
            QCOMPARE(f.type, ValueType::String);
        }
    }
}

void TestEventCatalog::lookups()
{
    QCOMPARE(catalog::variants().size(), EventKindCount);
    QCOMPARE(catalog::kindFromMessageName(u"GenerationComplete"), EventKind::GenerationBatchCompleted);
    QVERIFY(!catalog::kindFromName(u"GenerationComplete"));
    QCOMPARE(catalog::categoryFromName(u"Challenge"), Category::Challenge);
    QVERIFY(!catalog::categoryFromName(u"combat"));
    QCOMPARE(catalog::kindsInCategory(Category::Generation).size(), 4);
    QCOMPARE(catalog::kindsInCategory(Category::Suggestion).size(), 4);
    int total = 0;
    for (int c = 0; c < CategoryCount; ++c)
        total += catalog::kindsInCategory(Category(c)).size();
    QCOMPARE(total, EventKindCount);
}

void TestEventCatalog::sampleEventsUseEveryField()
{
    // The value structs and the catalog describe the same fields.
    for (EventKind k : test::allKinds()) {
        const QJsonObject o = codec::toJson(test::sampleEvent(k, true));
        QCOMPARE(o.size(), catalog::spec(k).fields.size() + 1);
        for (const FieldSpec &f : catalog::spec(k).fields)
            QVERIFY2(o.contains(f.name), qPrintable(f.name));
    }
}

QTEST_GUILESS_MAIN(TestEventCatalog)
#include "tst_eventcatalog.moc"
