//! The one list of workbench commands. Menus, keyboard shortcuts and the command palette are
//! all generated from it, so they can never disagree.

use egui::{Key, KeyboardShortcut, Modifiers};

/// Something the user can ask the workbench to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UiCommand {
    NewCase,
    OpenCase,
    OpenDemo,
    CloseCase,
    Import,
    Export,
    Undo,
    Redo,
    Find,
    CommandPalette,
    NewEntity,
    EntityTypes,
    GradingSchemes,
    ChartSnapshots,
    ShowGraph,
    ShowEntities,
    ShowLinks,
    ShowEvents,
    ShowTimeline,
    ShowAudit,
    ClearSelection,
    ClearTimeFilter,
    ToggleTheme,
    Shortcuts,
    About,
}

/// Which top-level menu a command appears in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Menu {
    File,
    Edit,
    View,
    Help,
}

impl UiCommand {
    pub const ALL: [UiCommand; 25] = [
        UiCommand::NewCase,
        UiCommand::OpenCase,
        UiCommand::OpenDemo,
        UiCommand::CloseCase,
        UiCommand::Import,
        UiCommand::Export,
        UiCommand::Undo,
        UiCommand::Redo,
        UiCommand::Find,
        UiCommand::ClearSelection,
        UiCommand::ClearTimeFilter,
        UiCommand::CommandPalette,
        UiCommand::NewEntity,
        UiCommand::EntityTypes,
        UiCommand::GradingSchemes,
        UiCommand::ChartSnapshots,
        UiCommand::ShowGraph,
        UiCommand::ShowEntities,
        UiCommand::ShowLinks,
        UiCommand::ShowEvents,
        UiCommand::ShowTimeline,
        UiCommand::ShowAudit,
        UiCommand::ToggleTheme,
        UiCommand::Shortcuts,
        UiCommand::About,
    ];

    pub fn label(self) -> &'static str {
        match self {
            UiCommand::NewCase => "New case…",
            UiCommand::OpenCase => "Open case…",
            UiCommand::OpenDemo => "Open the demo case (training)",
            UiCommand::CloseCase => "Close case",
            UiCommand::Import => "Import file…",
            UiCommand::Export => "Export case…",
            UiCommand::Undo => "Undo",
            UiCommand::Redo => "Redo",
            UiCommand::Find => "Find…",
            UiCommand::CommandPalette => "Command palette…",
            UiCommand::NewEntity => "New entity…",
            UiCommand::EntityTypes => "Entity types…",
            UiCommand::GradingSchemes => "Grading schemes…",
            UiCommand::ChartSnapshots => "Chart snapshots…",
            UiCommand::ShowGraph => "Link chart",
            UiCommand::ShowEntities => "Entities table",
            UiCommand::ShowLinks => "Links table",
            UiCommand::ShowEvents => "Events table",
            UiCommand::ShowTimeline => "Timeline",
            UiCommand::ShowAudit => "Audit log",
            UiCommand::ClearSelection => "Clear selection",
            UiCommand::ClearTimeFilter => "Clear time filter",
            UiCommand::ToggleTheme => "Switch dark / light theme",
            UiCommand::Shortcuts => "Keyboard shortcuts",
            UiCommand::About => "About COPKIT Workbench",
        }
    }

    pub fn menu(self) -> Menu {
        match self {
            UiCommand::NewCase
            | UiCommand::OpenCase
            | UiCommand::OpenDemo
            | UiCommand::CloseCase
            | UiCommand::Import
            | UiCommand::Export => Menu::File,
            UiCommand::Undo
            | UiCommand::Redo
            | UiCommand::Find
            | UiCommand::ClearSelection
            | UiCommand::ClearTimeFilter
            | UiCommand::CommandPalette
            | UiCommand::NewEntity
            | UiCommand::EntityTypes
            | UiCommand::GradingSchemes => Menu::Edit,
            UiCommand::Shortcuts | UiCommand::About => Menu::Help,
            _ => Menu::View,
        }
    }

    pub fn shortcut(self) -> Option<KeyboardShortcut> {
        let cmd = Modifiers::COMMAND;
        let cmd_shift = Modifiers::COMMAND | Modifiers::SHIFT;
        Some(match self {
            UiCommand::NewCase => KeyboardShortcut::new(cmd, Key::N),
            UiCommand::OpenCase => KeyboardShortcut::new(cmd, Key::O),
            UiCommand::CloseCase => KeyboardShortcut::new(cmd, Key::W),
            UiCommand::Import => KeyboardShortcut::new(cmd, Key::I),
            UiCommand::Export => KeyboardShortcut::new(cmd, Key::E),
            // Redo before undo: ctrl-shift-z must not be taken as ctrl-z.
            UiCommand::Redo => KeyboardShortcut::new(cmd_shift, Key::Z),
            UiCommand::Undo => KeyboardShortcut::new(cmd, Key::Z),
            UiCommand::Find => KeyboardShortcut::new(cmd, Key::F),
            UiCommand::CommandPalette => KeyboardShortcut::new(cmd, Key::P),
            UiCommand::ShowGraph => KeyboardShortcut::new(cmd, Key::G),
            UiCommand::ShowEntities => KeyboardShortcut::new(cmd, Key::Num1),
            UiCommand::ShowLinks => KeyboardShortcut::new(cmd, Key::Num2),
            UiCommand::ShowEvents => KeyboardShortcut::new(cmd, Key::Num3),
            UiCommand::ShowTimeline => KeyboardShortcut::new(cmd, Key::Num4),
            UiCommand::ClearSelection => KeyboardShortcut::new(Modifiers::NONE, Key::Escape),
            UiCommand::Shortcuts => KeyboardShortcut::new(Modifiers::NONE, Key::F1),
            _ => return None,
        })
    }

    /// Commands whose shortcut was pressed this frame (consumed from the input). Escape is
    /// left to an open menu or popup, which it closes, rather than clearing the selection.
    pub fn from_shortcuts(ctx: &egui::Context) -> Vec<UiCommand> {
        let popup_open = egui::Popup::is_any_open(ctx);
        let mut order: Vec<UiCommand> = UiCommand::ALL.to_vec();
        // Longer modifier sets first, so ctrl-shift-z is not consumed as ctrl-z.
        order.sort_by_key(|c| {
            std::cmp::Reverse(c.shortcut().map_or(0, |s| s.modifiers.shift as u8))
        });
        ctx.input_mut(|input| {
            order
                .into_iter()
                .filter(|c| !(popup_open && *c == UiCommand::ClearSelection))
                .filter(|c| c.shortcut().is_some_and(|s| input.consume_shortcut(&s)))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in UiCommand::ALL {
            if let Some(s) = c.shortcut() {
                assert!(
                    seen.insert((s.modifiers.command, s.modifiers.shift, s.logical_key)),
                    "{c:?}"
                );
            }
        }
    }
}
