// GenerationEvent → AppEvent, as the engine's generation event publisher maps it.
#include "GenerationEvent.h"

#include <QTest>

using namespace Qt::StringLiterals;
using namespace eventdesk;

class TestGenerationEvent : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void mapsEveryKind();
};

void TestGenerationEvent::mapsEveryKind()
{
    using namespace generation;
    const std::optional<QString> session = u"s-9"_s;
    const std::optional<QString> world = u"w1"_s;
    const auto map = [&](auto inner) { return GenerationEvent{inner, session, world}.toAppEvent(); };

    AppEvent e = map(BatchQueued{u"b"_s, u"character"_s, u"pc1"_s, u"portrait"_s, 2});
    QCOMPARE(e, AppEvent(events::GenerationBatchQueued{u"b"_s, u"character"_s, u"pc1"_s, u"portrait"_s, 2, session}));
    QVERIFY(e.isGlobal());  // generation traffic has no world, whatever the context says

    e = map(BatchProgress{u"b"_s, 30});
    QCOMPARE(e, AppEvent(events::GenerationBatchProgress{u"b"_s, 30, session}));
    e = map(BatchComplete{u"b"_s, u"character"_s, u"pc1"_s, u"portrait"_s, 4});
    QCOMPARE(e, AppEvent(events::GenerationBatchCompleted{u"b"_s, u"character"_s, u"pc1"_s, u"portrait"_s, 4, session}));
    e = map(BatchFailed{u"b"_s, u"character"_s, u"pc1"_s, u"portrait"_s, u"oom"_s});
    QCOMPARE(e, AppEvent(events::GenerationBatchFailed{u"b"_s, u"character"_s, u"pc1"_s, u"portrait"_s, u"oom"_s, session}));
    QCOMPARE(e.kind(), EventKind::GenerationBatchFailed);

    e = map(SuggestionQueued{u"r"_s, u"npc_name"_s, u"npc-1"_s});
    QCOMPARE(e, AppEvent(events::SuggestionQueued{u"r"_s, u"npc_name"_s, u"npc-1"_s, world}));
    QCOMPARE(e.worldId(), u"w1"_s);
    e = map(SuggestionProgress{u"r"_s, u"thinking"_s});
    QCOMPARE(e, AppEvent(events::SuggestionProgress{u"r"_s, u"thinking"_s, world}));
    e = map(SuggestionComplete{u"r"_s, u"npc_name"_s, {u"A"_s, u"B"_s}});
    QCOMPARE(e, AppEvent(events::SuggestionCompleted{u"r"_s, u"npc_name"_s, {u"A"_s, u"B"_s}, world}));
    QCOMPARE(e.summary(), u"2 suggestions for npc_name: “A”"_s);
    e = map(SuggestionFailed{u"r"_s, u"npc_name"_s, u"timeout"_s});
    QCOMPARE(e, AppEvent(events::SuggestionFailed{u"r"_s, u"npc_name"_s, u"timeout"_s, world}));

    // Without a world the suggestion is global.
    e = GenerationEvent{SuggestionProgress{u"r"_s, u"x"_s}, std::nullopt, std::nullopt}.toAppEvent();
    QVERIFY(e.isGlobal());
}

QTEST_GUILESS_MAIN(TestGenerationEvent)
#include "tst_generationevent.moc"
