// Asks before an act that cannot be taken back (ending a session, removing a
// player): the act's own name on the button, Cancel as the default.
#pragma once

#include <QMessageBox>
#include <QPushButton>

namespace eventdesk {

inline bool confirmAct(QWidget *parent, const QString &title, const QString &text, const QString &act)
{
    QMessageBox box(QMessageBox::Warning, title, text, QMessageBox::NoButton, parent);
    QPushButton *go = box.addButton(act, QMessageBox::AcceptRole);
    QPushButton *cancel = box.addButton(QMessageBox::Cancel);
    box.setDefaultButton(cancel);
    box.setEscapeButton(cancel);
    box.exec();
    return box.clickedButton() == go;
}

} // namespace eventdesk
