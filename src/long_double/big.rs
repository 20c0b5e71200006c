//! Just enough unsigned big-integer arithmetic for exact conversions between decimal text and
//! [`super::LongDouble`]: the numbers involved reach about 33,000 bits (a 5,119-digit argument,
//! `5^k` for exponents near the format's limits), and the operations needed are few, so a small
//! schoolbook implementation serves rather than a dependency.

use std::cmp::Ordering;

/// An unsigned integer, little-endian 32-bit limbs, no high zero limbs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Big(Vec<u32>);

impl Big {
    pub fn from_u128(mut v: u128) -> Big {
        let mut limbs = Vec::new();
        while v != 0 {
            limbs.push(v as u32);
            v >>= 32;
        }
        Big(limbs)
    }

    /// `5^n`.
    pub fn pow5(n: u32) -> Big {
        // 5^13 is the largest power of five that fits in a limb.
        const FIVE_13: u32 = 1_220_703_125;
        let mut b = Big::from_u128(1);
        for _ in 0..n / 13 {
            b.mul_add_small(FIVE_13, 0);
        }
        b.mul_add_small(5u32.pow(n % 13), 0);
        b
    }

    pub fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    pub fn bit_len(&self) -> u64 {
        match self.0.last() {
            None => 0,
            Some(top) => self.0.len() as u64 * 32 - u64::from(top.leading_zeros()),
        }
    }

    /// `self = self * m + a`.
    pub fn mul_add_small(&mut self, m: u32, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    /// `self = self / d`, returning the remainder.
    pub fn div_rem_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for limb in self.0.iter_mut().rev() {
            let v = (rem << 32) | u64::from(*limb);
            *limb = (v / u64::from(d)) as u32;
            rem = v % u64::from(d);
        }
        self.trim();
        rem as u32
    }

    pub fn shl(&self, bits: u64) -> Big {
        if self.is_zero() {
            return Big::default();
        }
        let (limbs, bits) = ((bits / 32) as usize, (bits % 32) as u32);
        let mut out = vec![0u32; limbs];
        out.reserve(self.0.len() + 1);
        let mut carry = 0u32;
        for &limb in &self.0 {
            if bits == 0 {
                out.push(limb);
            } else {
                out.push((limb << bits) | carry);
                carry = limb >> (32 - bits);
            }
        }
        if carry != 0 {
            out.push(carry);
        }
        Big(out)
    }

    /// `self >> 1`, in place.
    fn shr1(&mut self) {
        let mut carry = 0u32;
        for limb in self.0.iter_mut().rev() {
            let next = *limb & 1;
            *limb = (*limb >> 1) | (carry << 31);
            carry = next;
        }
        self.trim();
    }

    pub fn add(&self, other: &Big) -> Big {
        let (long, short) = if self.0.len() >= other.0.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut out = Vec::with_capacity(long.0.len() + 1);
        let mut carry = 0u64;
        for (i, &limb) in long.0.iter().enumerate() {
            let v = u64::from(limb) + u64::from(short.0.get(i).copied().unwrap_or(0)) + carry;
            out.push(v as u32);
            carry = v >> 32;
        }
        if carry != 0 {
            out.push(carry as u32);
        }
        Big(out)
    }

    /// `self - other`; `other` must not be larger.
    pub fn sub(&self, other: &Big) -> Big {
        let mut out = self.clone();
        out.sub_assign(other);
        out
    }

    fn sub_assign(&mut self, other: &Big) {
        debug_assert!(*self >= *other);
        let mut borrow = 0i64;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let v = i64::from(*limb) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
            if v < 0 {
                *limb = (v + (1 << 32)) as u32;
                borrow = 1;
            } else {
                *limb = v as u32;
                borrow = 0;
            }
        }
        self.trim();
    }

    /// `(self / d, self % d != 0)` for a quotient known to fit in 128 bits.
    pub fn div_small_quotient(&self, d: &Big) -> (u128, bool) {
        let quotient_bits = self.bit_len().saturating_sub(d.bit_len()) + 1;
        debug_assert!(quotient_bits <= 128);
        let mut rem = self.clone();
        let mut shifted = d.shl(quotient_bits - 1);
        let mut q = 0u128;
        for _ in 0..quotient_bits {
            q <<= 1;
            if rem >= shifted {
                rem.sub_assign(&shifted);
                q |= 1;
            }
            shifted.shr1();
        }
        (q, !rem.is_zero())
    }

    /// The low 128 bits.
    pub fn low_u128(&self) -> u128 {
        self.0
            .iter()
            .take(4)
            .enumerate()
            .fold(0u128, |acc, (i, &l)| acc | (u128::from(l) << (32 * i)))
    }

    /// Whether any of the low `bits` bits is set.
    pub fn any_low_bits(&self, bits: u64) -> bool {
        let whole = (bits / 32) as usize;
        if self.0.iter().take(whole).any(|&l| l != 0) {
            return true;
        }
        let rest = (bits % 32) as u32;
        rest != 0
            && self
                .0
                .get(whole)
                .is_some_and(|&l| l & ((1 << rest) - 1) != 0)
    }

    /// `self >> bits`.
    pub fn shr(&self, bits: u64) -> Big {
        let (limbs, bits) = ((bits / 32) as usize, (bits % 32) as u32);
        if limbs >= self.0.len() {
            return Big::default();
        }
        let src = &self.0[limbs..];
        let mut out = Vec::with_capacity(src.len());
        for (i, &limb) in src.iter().enumerate() {
            let high = src.get(i + 1).copied().unwrap_or(0);
            out.push(if bits == 0 {
                limb
            } else {
                (limb >> bits) | (high << (32 - bits))
            });
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    /// Decimal digits, most significant first (`"0"` for zero).
    pub fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".to_string();
        }
        const CHUNK: u32 = 1_000_000_000;
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_rem_small(CHUNK));
        }
        let mut s = chunks.pop().map(|c| c.to_string()).unwrap_or_default();
        for c in chunks.iter().rev() {
            s.push_str(&format!("{c:09}"));
        }
        s
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }
}

impl PartialOrd for Big {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Big {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_matches_u128() {
        let (x, y): (u128, u128) = (0xffff_ffff_ffff_ffff_1234, 0x1_0000_0001);
        let (a, b) = (Big::from_u128(x), Big::from_u128(y));
        assert_eq!(a.add(&b).low_u128(), x + y);
        assert_eq!(a.sub(&b).low_u128(), x - y);
        assert_eq!(a.shl(37).shr(37), a);
        assert_eq!(a.div_small_quotient(&b), (x / y, x % y != 0));
        assert_eq!(Big::pow5(27).low_u128(), 5u128.pow(27));
        assert_eq!(Big::pow5(40).to_decimal(), 5u128.pow(40).to_string());
        assert!(a.any_low_bits(3));
        assert!(!Big::from_u128(1 << 40).any_low_bits(40));
        assert!(Big::from_u128(1 << 40).any_low_bits(41));
    }
}
