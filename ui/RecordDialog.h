// File → Record an engine…: which engine (its WebSocket), which world (listed
// from the engine, or its UUID typed), and as whom: a spectator of a player
// character, or — said plainly — the DM's seat.
#pragma once

#include "EngineRecorder.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QNetworkAccessManager;

namespace eventdesk {

class RecordDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RecordDialog)
public:
    explicit RecordDialog(QWidget *parent = nullptr);
    ~RecordDialog() override;

    // Read before the dialog goes.
    EngineRecorder::Options options() const;
    QLineEdit *engineEdit() const { return m_engine; }
    QComboBox *worldBox() const { return m_world; }

    void accept() override;

private:
    void listWorlds();

    QLineEdit *m_engine;
    QComboBox *m_world;
    QLineEdit *m_spectate;
    QCheckBox *m_asDm;
    QLabel *m_problem;
    QNetworkAccessManager *m_net;
};

} // namespace eventdesk
