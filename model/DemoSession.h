// A realistic game session played through the producers, as the engine would:
// story beats, narrative triggers, challenge rolls per character, image
// generation and text suggestion jobs. For demos, screenshots and benchmarks:
// `eventdesk simulate`, and Events → Play a demo session in the window.
// Worlds and characters get UUIDs and display names (the engine wants UUIDs).
#pragma once

#include "DeskPorts.h"
#include "Producers.h"

#include <QObject>
#include <QRandomGenerator>
#include <QTimer>

#include <memory>

namespace eventdesk {

struct DemoOptions {
    QStringList worlds = {QStringLiteral("Ravenmoor")};  // names or UUIDs
    int players = 4;              // characters per world
    double actionsPerSecond = 2;
    qint64 durationMs = 30000;
    quint32 seed = 0;             // 0: random
    double failureRate = 0.1;     // of generation and suggestion jobs
};

class DemoSession final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DemoSession)
public:
    // book (optional) keeps the display names of the worlds and characters.
    DemoSession(EventBus &bus, DeskBook *book, DemoOptions options, QObject *parent = nullptr);
    ~DemoSession() override;

    void start();
    // Stops playing; jobs already queued finish (at most 10 s), then finished().
    void stop();
    bool isRunning() const { return m_running; }
    qint64 actions() const { return m_actions; }
    qint64 failures() const { return m_failures; }
    QStringList worldIds() const { return m_worlds; }

Q_SIGNALS:
    void finished();

private:
    void act();
    QString someCharacter(const QString &world);

    EventBus &m_bus;
    DeskBook *m_book;
    DemoOptions m_options;
    QRandomGenerator m_rng;
    QString m_sessionId;
    QStringList m_worlds;
    QHash<QString, QStringList> m_cast;  // world id → its characters' ids
    StoryEventService m_story;
    NarrativeEventService m_narrative;
    std::unique_ptr<ChallengeService> m_challenges;
    GenerationEventPublisher m_publisher;
    std::unique_ptr<GenerationService> m_generation;
    std::unique_ptr<SuggestionService> m_suggestions;
    QTimer m_beat;
    QTimer m_drain;
    bool m_running = false;
    bool m_finished = false;
    qint64 m_actions = 0;
    qint64 m_failures = 0;
};

} // namespace eventdesk
