//! Redis's `long double`, the type INCRBYFLOAT computes in: on x86-64 the x87 80-bit extended
//! format (a 64-bit mantissa with an explicit leading bit, exponents down to 2^-16445 through
//! the subnormals, up to about 1.19e4932).
//!
//! ### Why not `f64`
//! Clients see the result as text, and the text depends on the precision: Redis answers
//! `INCRBYFLOAT k 0.1` then `INCRBYFLOAT k 0.2` with `0.3`, because the extended sum printed to
//! 17 decimals rounds back to it, where an `f64` sum gives `0.30000000000000004`. So Herald does
//! what the C library and the x87 unit do for Redis, exactly: `strtold`'s correctly rounded
//! parse (decimal and hexadecimal, `inf`, range errors), the sum rounded to nearest-even in 64
//! bits, and `printf("%.17Lf")` (the exact binary value rounded half-even to 17 decimals), which
//! Redis's `ld2string` then trims of trailing zeros. Exact conversions need big integers: see
//! [`big`].

mod big;

use big::Big;

/// Redis's `MAX_LONG_DOUBLE_CHARS`: `string2ld` refuses an argument this long or longer.
const MAX_CHARS: usize = 5 * 1024;
/// The exponent of the last mantissa bit of a subnormal (and of the smallest normal number).
const MIN_EXP: i64 = -16445;
/// The exponent of the last mantissa bit of the largest finite number, `(2^64 - 1) * 2^16320`.
const MAX_EXP: i64 = 16320;
/// The decimals `%.17Lf` prints.
const DECIMALS: u32 = 17;

/// A value of the x87 extended type: `mantissa * 2^exp`, or an infinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongDouble {
    /// Normalised as the hardware holds it: a 64-bit mantissa with its top bit set, or a smaller
    /// one at [`MIN_EXP`] (subnormal, or zero).
    Finite {
        negative: bool,
        mantissa: u64,
        exp: i64,
    },
    Infinite {
        negative: bool,
    },
}

impl LongDouble {
    pub const ZERO: LongDouble = LongDouble::Finite {
        negative: false,
        mantissa: 0,
        exp: MIN_EXP,
    };

    /// Redis's `string2ld`: the whole argument must be a number `strtold` reads, with no space
    /// before it, and neither NaN nor out of range (an overflow, or an underflow to zero).
    /// `None` is Redis's "value is not a valid float".
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= MAX_CHARS {
            return None;
        }
        let (negative, rest) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if rest.eq_ignore_ascii_case(b"inf") || rest.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble::Infinite { negative });
        }
        let number = match rest {
            [b'0', b'x' | b'X', hex @ ..] => Number::hex(hex)?,
            _ => Number::decimal(rest)?,
        };
        match number.round(negative) {
            LongDouble::Finite { mantissa: 0, .. } if !number.digits.is_zero() => None,
            LongDouble::Infinite { .. } => None,
            value => Some(value),
        }
    }

    /// `self + other` as the x87 unit computes it; `None` when the sum is NaN or infinite
    /// (Redis's "increment would produce NaN or Infinity").
    pub fn checked_add(self, other: LongDouble) -> Option<LongDouble> {
        let (
            LongDouble::Finite {
                negative: an,
                mantissa: am,
                exp: ae,
            },
            LongDouble::Finite {
                negative: bn,
                mantissa: bm,
                exp: be,
            },
        ) = (self, other)
        else {
            return None;
        };
        if am == 0 && bm == 0 {
            // Round to nearest: -0 + -0 is -0; every other sum of zeros is +0.
            return Some(LongDouble::Finite {
                negative: an && bn,
                mantissa: 0,
                exp: MIN_EXP,
            });
        }
        if am == 0 {
            return Some(other);
        }
        if bm == 0 {
            return Some(self);
        }
        // The exact sum, on the grid of the finer operand, then rounded once.
        let low = ae.min(be);
        let a = Big::from_u128(am.into()).shl((ae - low) as u64);
        let b = Big::from_u128(bm.into()).shl((be - low) as u64);
        let (negative, sum) = if an == bn {
            (an, a.add(&b))
        } else {
            match a.cmp(&b) {
                std::cmp::Ordering::Equal => return Some(LongDouble::ZERO),
                std::cmp::Ordering::Greater => (an, a.sub(&b)),
                std::cmp::Ordering::Less => (bn, b.sub(&a)),
            }
        };
        match round(negative, &sum, None, low) {
            LongDouble::Infinite { .. } => None,
            value => Some(value),
        }
    }

    /// Redis's `ld2string` in its human mode (INCRBYFLOAT's reply and stored value):
    /// `%.17Lf`, trailing zeros and a trailing point removed, `-0` written `0`. Infinities are
    /// never stored (the sum refuses them); they print as Redis does, `inf` and `-inf`.
    pub fn to_human(self) -> String {
        let (negative, mantissa, exp) = match self {
            LongDouble::Infinite { negative } => {
                return if negative { "-inf" } else { "inf" }.to_string();
            }
            LongDouble::Finite {
                negative,
                mantissa,
                exp,
            } => (negative, mantissa, exp),
        };
        // value * 10^17 = mantissa * 5^17 * 2^(exp + 17), rounded half-even to an integer.
        let scaled = u128::from(mantissa) * 5u128.pow(DECIMALS);
        let shift = exp + i64::from(DECIMALS);
        let units = if shift >= 0 {
            Big::from_u128(scaled).shl(shift as u64)
        } else if shift <= -128 {
            // scaled < 2^104: less than half a unit.
            Big::default()
        } else {
            let dropped = (-shift) as u32;
            let kept = scaled >> dropped;
            let rest = scaled & ((1u128 << dropped) - 1);
            let half = 1u128 << (dropped - 1);
            let up = rest > half || (rest == half && kept & 1 == 1);
            Big::from_u128(kept + u128::from(up))
        };
        let mut digits = units.to_decimal();
        if digits.len() <= DECIMALS as usize {
            digits = format!("{digits:0>width$}", width = DECIMALS as usize + 1);
        }
        let point = digits.len() - DECIMALS as usize;
        let fraction = digits[point..].trim_end_matches('0');
        let mut text = String::with_capacity(digits.len() + 2);
        if negative {
            text.push('-');
        }
        text.push_str(&digits[..point]);
        if !fraction.is_empty() {
            text.push('.');
            text.push_str(fraction);
        }
        if text == "-0" {
            text.remove(0);
        }
        text
    }
}

/// A parsed literal before rounding: `digits * 10^exp10 * 2^exp2`, exactly.
struct Number {
    digits: Big,
    exp10: i64,
    exp2: i64,
}

impl Number {
    /// `strtold`'s decimal form: digits with an optional point (at least one digit), then an
    /// optional `e` exponent, which must have digits to be part of the number.
    fn decimal(s: &[u8]) -> Option<Number> {
        let m = Mantissa::read(s, 10)?;
        let exp10 = exponent(&s[m.end..], b'e')?.saturating_sub(m.fraction_digits);
        let number = Number {
            digits: m.digits,
            exp10,
            exp2: 0,
        };
        // Out of range either way whatever the rounding: spare the big powers of five.
        let magnitude = m.significant as i64 + exp10;
        if m.significant > 0 && !(-4952..=4934).contains(&magnitude) {
            return Some(number.saturate(magnitude > 0));
        }
        Some(number)
    }

    /// `strtold`'s hexadecimal form after `0x`: hex digits with an optional point (at least
    /// one digit), then an optional `p` binary exponent in decimal.
    fn hex(s: &[u8]) -> Option<Number> {
        let m = Mantissa::read(s, 16)?;
        let exp2 = exponent(&s[m.end..], b'p')?.saturating_sub(4 * m.fraction_digits);
        let magnitude = m.digits.bit_len() as i64 + exp2;
        let number = Number {
            digits: m.digits,
            exp10: 0,
            exp2,
        };
        if !number.digits.is_zero() && !(-16447..=16386).contains(&magnitude) {
            return Some(number.saturate(magnitude > 0));
        }
        Some(number)
    }

    /// A stand-in that rounds to an infinity or to zero, for a literal far out of range.
    fn saturate(self, overflow: bool) -> Number {
        Number {
            digits: Big::from_u128(1),
            exp10: 0,
            exp2: if overflow {
                MAX_EXP + 200
            } else {
                MIN_EXP - 200
            },
        }
    }

    fn round(&self, negative: bool) -> LongDouble {
        if self.exp10 >= 0 {
            let mut num = self.digits.clone();
            // 10^k = 5^k * 2^k; 5^13 is the largest power of five in a limb.
            let mut left = self.exp10;
            while left > 0 {
                let step = left.min(13) as u32;
                num.mul_add_small(5u32.pow(step), 0);
                left -= i64::from(step);
            }
            round(negative, &num, None, self.exp2 + self.exp10)
        } else {
            let den = Big::pow5((-self.exp10) as u32);
            round(negative, &self.digits, Some(&den), self.exp2 + self.exp10)
        }
    }
}

/// A literal's digits, with an optional point among them, read in `radix` (10 or 16).
struct Mantissa {
    /// The digits as one integer, the point ignored.
    digits: Big,
    /// Digits from the first non-zero one on.
    significant: usize,
    /// Digits after the point (the integer is that many places too large).
    fraction_digits: i64,
    /// Where the digits end in the literal.
    end: usize,
}

impl Mantissa {
    /// `None` without a single digit. Digits are gathered in a limb as many at a time as fit
    /// (nine decimal, seven hex) before going into the big integer: a 5,000-digit argument
    /// costs that fraction of the big multiplications.
    fn read(s: &[u8], radix: u32) -> Option<Mantissa> {
        let per_limb = if radix == 10 { 9 } else { 7 };
        let mut m = Mantissa {
            digits: Big::default(),
            significant: 0,
            fraction_digits: 0,
            end: 0,
        };
        let (mut pending, mut pending_len) = (0u32, 0u32);
        let (mut any, mut after_point) = (false, false);
        while let Some(&c) = s.get(m.end) {
            if c == b'.' && !after_point {
                after_point = true;
            } else if let Some(v) = (c as char).to_digit(radix) {
                any = true;
                if after_point {
                    m.fraction_digits += 1;
                }
                if m.significant > 0 || v != 0 {
                    m.significant += 1;
                    pending = pending * radix + v;
                    pending_len += 1;
                    if pending_len == per_limb {
                        m.digits.mul_add_small(radix.pow(per_limb), pending);
                        (pending, pending_len) = (0, 0);
                    }
                }
            } else {
                break;
            }
            m.end += 1;
        }
        if pending_len > 0 {
            m.digits.mul_add_small(radix.pow(pending_len), pending);
        }
        any.then_some(m)
    }
}

/// The exponent after a number's digits: `marker`, an optional sign, and at least one decimal
/// digit; nothing else may follow. An empty rest is no exponent.
fn exponent(s: &[u8], marker: u8) -> Option<i64> {
    let Some((&first, rest)) = s.split_first() else {
        return Some(0);
    };
    if first.to_ascii_lowercase() != marker {
        return None;
    }
    let (negative, digits) = match rest.first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Saturated far beyond any exponent that could still be in range.
    let value = digits.iter().fold(0i64, |acc, &d| {
        (acc * 10 + i64::from(d - b'0')).min(1_000_000_000)
    });
    Some(if negative { -value } else { value })
}

/// `num / den * 2^exp2`, rounded to nearest-even in the extended format, subnormals included;
/// an infinity past the largest finite value.
fn round(negative: bool, num: &Big, den: Option<&Big>, exp2: i64) -> LongDouble {
    if num.is_zero() {
        return LongDouble::Finite {
            negative,
            mantissa: 0,
            exp: MIN_EXP,
        };
    }
    // Scale so that the integer quotient has 67 or 68 bits: the 64 kept, a rounding bit, and
    // more; whatever is left over only matters as "some" (sticky).
    let scale = 67 - (num.bit_len() as i64 - den.map_or(1, Big::bit_len) as i64);
    let (q, sticky) = match den {
        Some(den) if scale >= 0 => num.shl(scale as u64).div_small_quotient(den),
        Some(den) => num.div_small_quotient(&den.shl((-scale) as u64)),
        None if scale >= 0 => (num.shl(scale as u64).low_u128(), false),
        None => (
            num.shr((-scale) as u64).low_u128(),
            num.any_low_bits((-scale) as u64),
        ),
    };
    // value = (q + a fraction, non-zero when sticky) * 2^unit
    let unit = exp2 - scale;
    let len = i64::from(128 - q.leading_zeros());
    // Below the normal range the last bit kept is fixed at MIN_EXP (gradual underflow); far
    // below it nothing is kept, and whether q reaches half of MIN_EXP's unit decides.
    let dropped = (len - 64).max(MIN_EXP - unit).min(len + 1) as u32;
    let kept = q >> dropped;
    let rest = q & ((1u128 << dropped) - 1);
    let half = 1u128 << (dropped - 1);
    let up = rest > half || (rest == half && (sticky || kept & 1 == 1));
    let mut mantissa = kept + u128::from(up);
    let mut exp = unit + i64::from(dropped);
    if mantissa == 1 << 64 {
        mantissa >>= 1;
        exp += 1;
    }
    if mantissa == 0 {
        exp = MIN_EXP;
    }
    if exp > MAX_EXP {
        return LongDouble::Infinite { negative };
    }
    LongDouble::Finite {
        negative,
        mantissa: mantissa as u64,
        exp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(a: &str, b: &str) -> Option<String> {
        let a = LongDouble::parse(a.as_bytes()).expect(a);
        let b = LongDouble::parse(b.as_bytes()).expect(b);
        a.checked_add(b).map(LongDouble::to_human)
    }

    /// Replies of redis-server 7.0.15 on x86-64 (INCRBYFLOAT on a missing key, or SET then
    /// INCRBYFLOAT).
    #[test]
    fn sums_print_as_redis_prints_them() {
        for (a, b, redis) in [
            ("0.1", "0.2", "0.3"),
            ("0", "0x1p-18", "0.00000381469726562"),
            ("0", "3.0e3", "3000"),
            ("0", "-0", "0"),
            ("0", "-0.0000000000000000001", "0"),
            ("0", "10.50", "10.5"),
            (
                "0",
                "1.23456789012345678901234567890",
                "1.23456789012345679",
            ),
            (
                "0",
                "123456789012345678901234567890",
                "123456789012345678899921813504",
            ),
            ("0", "0X1P3", "8"),
            ("0", "+.5e1", "5"),
            ("0", "5.", "5"),
            ("0", "1e-4940", "0"),
        ] {
            assert_eq!(incr(a, b).as_deref(), Some(redis), "{a} + {b}");
        }
        assert!(incr("0", "1e300").unwrap().starts_with(
            "10000000000000000000089973240795591938705239442732907479382600823212656465961809"
        ));
    }

    #[test]
    fn what_string2ld_refuses() {
        for refused in [
            "",
            " 1",
            "\t1",
            "1 ",
            "1_0",
            "nan",
            "-nan(abc)",
            "0x",
            "1e",
            "1e+",
            ".",
            ".e5",
            "1e-5000",
            "1e-4951",
            "1.5e4932",
            "1\0abc",
            "0x1p",
            "infinit",
        ] {
            assert_eq!(
                LongDouble::parse(refused.as_bytes()),
                None,
                "{refused:?} is refused"
            );
        }
        assert!(
            LongDouble::parse(&[b'1'; MAX_CHARS - 1]).is_none(),
            "overflows"
        );
        let mut long = vec![b'0'; MAX_CHARS - 2];
        long.push(b'1');
        assert!(LongDouble::parse(&long).is_some());
        long.insert(0, b'0');
        assert!(LongDouble::parse(&long).is_none(), "too long");
    }

    #[test]
    fn infinities_parse_and_never_sum() {
        assert_eq!(incr("0", "INFINITY"), None);
        assert_eq!(incr("-inf", "1"), None);
        assert_eq!(incr("0x1.fffffffffffffffep16383", "0x1p16320"), None);
        assert!(incr("0", "0x1.fffffffffffffffep16383").unwrap().len() == 4933);
    }

    #[test]
    fn rounding_is_to_nearest_even() {
        // 1 + 2^-64 is a tie between 1 and 1 + 2^-63: even is 1.
        let one = LongDouble::parse(b"1").unwrap();
        let tie = LongDouble::parse(b"0x1p-64").unwrap();
        assert_eq!(one.checked_add(tie), Some(one));
        let above = LongDouble::parse(b"0x1.0000001p-64").unwrap();
        assert_ne!(one.checked_add(above), Some(one));
        // The smallest subnormal survives; half of it rounds to zero and is refused.
        assert!(LongDouble::parse(b"0x1p-16445").is_some());
        assert!(LongDouble::parse(b"0x1p-16446").is_none());
        assert!(LongDouble::parse(b"0x1.8p-16446").is_some());
    }
}
