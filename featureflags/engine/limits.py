"""Limits per flag and per segment, enforced when a definition is validated.

Each bounds what one check or one compile can cost: a flag within them compiles in
milliseconds and evaluates in microseconds, so nothing that validation accepts can
fail to compile later (and then be silently off).
"""

MAX_ENVIRONMENTS = 50
MAX_RULES = 100  # per targeting (one environment)
MAX_SEGMENTS_PER_RULE = 10
MAX_CONSTRAINTS = 50  # per rule, per segment, and per version-1 flag
MAX_VALUES = 1_000  # per constraint
MAX_VALUE_LENGTH = 1_000  # characters of one constraint value
MAX_PATTERN_LENGTH = 1_000  # characters of one regular expression
MAX_REGEX_RULES = 100  # regular expressions of a version-1 flag
MAX_VARIANTS = 100
MAX_PREREQUISITES = 50
MAX_PREREQUISITE_DEPTH = 32  # a longer chain is refused on write, and off at evaluation
MAX_PINNED_VARIANTS = 10_000
MAX_VALUE_BYTES = 64 * 1024  # a variant's value as JSON
# Context values longer than this make a parsing operator (NUM_*, DATE_*, SEMVER_*, IN_CIDR) false:
# what a number, a date, a version or an address can be, with room to spare.
MAX_ATTRIBUTE_LENGTH = 256
PERCENTAGE_DECIMALS = 3
