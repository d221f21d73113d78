//! Enums whose values are words a user types (a flag's values, a key's
//! cycle): one list of (variant, word) per enum, from which `named!` makes
//! the enum, `ALL` (in list order), `NAMES`, `name` and `parse`. The flag
//! table, the help, the completions and the key cycles all read them.

#[macro_export]
macro_rules! named {
    ($(#[$m:meta])* $vis:vis enum $t:ident { $($(#[$vm:meta])* $v:ident = $n:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $t {
            $($(#[$vm])* $v,)*
        }

        impl $t {
            /// Every value, in the order listed.
            pub const ALL: &'static [$t] = &[$($t::$v,)*];
            /// Their words, in the same order.
            pub const NAMES: &'static [&'static str] = &[$($n,)*];

            pub const fn name(self) -> &'static str {
                match self {
                    $($t::$v => $n,)*
                }
            }

            pub fn parse(s: &str) -> Option<$t> {
                match s {
                    $($n => Some($t::$v),)*
                    _ => None,
                }
            }
        }
    };
}
