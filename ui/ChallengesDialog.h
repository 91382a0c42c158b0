// The DM's challenges per world (name, difficulty): what players roll against
// with ChallengeRoll. Edits go straight to EventDesk's own table and are audited.
#pragma once

#include "DeskPorts.h"

#include <QDialog>

class QComboBox;
class QLabel;
class QTableWidget;

namespace eventdesk {

class ChallengesDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChallengesDialog)
public:
    ChallengesDialog(DeskBook &book, const QStringList &worlds, const QString &world, QWidget *parent = nullptr);

    QTableWidget *table() const { return m_table; }
    // Adds a challenge to the chosen world (also what the Add button does).
    void addChallenge(const QString &name, int difficulty);

Q_SIGNALS:
    void changed();

private:
    void reload();
    void commitRow(int row);
    void removeSelected();

    DeskBook &m_book;
    QComboBox *m_world;
    QTableWidget *m_table;
    QLabel *m_status;
    bool m_filling = false;
};

} // namespace eventdesk
