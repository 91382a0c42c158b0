// The DM's quick actions, through the game's own producers (DESIGN §1): record
// a story event, trigger a narrative event, roll a challenge for a character,
// queue an image generation or a text suggestion job. The results are ordinary
// events: they appear in the log like the engine's.
#pragma once

#include "GenerationEvent.h"
#include "Producers.h"
#include "DeskPorts.h"

#include <QObject>

#include <functional>
#include <memory>

class QMenu;
class QWidget;

namespace eventdesk {

class QuickActions final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(QuickActions)
public:
    // currentWorld: the world the DM is looking at ("" when none is chosen).
    QuickActions(EventBus &bus, DeskBook *book, std::function<QString()> currentWorld, QWidget *parent);

    // What the world picker offers: the worlds seen in the log (id → shown name).
    void setKnownWorlds(std::function<QList<std::pair<QString, QString>>()> worlds);
    ~QuickActions() override;

    // The "Quick" menu: each entry asks for what it needs, then publishes.
    QMenu *menu() const { return m_menu; }

    // What the entries do once they know everything (also for tests).
    void recordStory(const QString &world, StoryKind kind);
    void triggerNarrative(const QString &world, const QString &name, const QString &outcome);
    void rollChallenge(const Challenge &challenge, const QString &characterId, int modifier);
    void queueGeneration(const QString &entityType, const QString &entityId, const QString &assetType);
    void requestSuggestion(const QString &fieldType, const QString &world);

Q_SIGNALS:
    void done(const QString &what);
    void failed(const QString &why);

private:
    QString worldOrAsk();
    void askNarrative();
    void askRoll();
    void askRollWith(const QString &world, const QHash<QString, QString> &names);
    void askGeneration();
    void askGenerationWith(const QHash<QString, QString> &names);
    void askSuggestion();
    void report(QFuture<PublishResult> published, const QString &what);

    EventBus &m_bus;
    DeskBook *m_book;
    std::function<QString()> m_currentWorld;
    std::function<QList<std::pair<QString, QString>>()> m_knownWorlds;
    QWidget *m_parent;
    QMenu *m_menu;
    StoryEventService m_story;
    NarrativeEventService m_narrative;
    ChallengeService m_challenges;
    GenerationEventPublisher m_publisher;
    std::unique_ptr<GenerationService> m_generation;
    std::unique_ptr<SuggestionService> m_suggestions;
};

} // namespace eventdesk
