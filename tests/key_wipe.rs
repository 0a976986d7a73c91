//! The derived data key does not linger: no heap block is freed still holding
//! it, and no copy is left on the stack below the caller once deriving,
//! sealing and opening have returned. A scanning allocator looks into every
//! freed block; the stack is read through `/proc/self/mem` (Linux). Each check
//! first shows, with ring alone, that it would see a copy that was left.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Seek, SeekFrom};
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

use mizan::crypto::{DataKey, SALT_LEN};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305};
use ring::hkdf;
use zeroize::Zeroize;

static PATTERN: OnceLock<[u8; 32]> = OnceLock::new();
static ARMED: AtomicBool = AtomicBool::new(false);
static FREED_WITH_KEY: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting the freed blocks that still hold [`PATTERN`] while armed.
struct Scanning;

unsafe impl GlobalAlloc for Scanning {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::SeqCst) {
            if let Some(pattern) = PATTERN.get() {
                // SAFETY: the block is still allocated and `layout.size()` bytes long.
                let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
                if block.windows(32).any(|w| w == pattern) {
                    FREED_WITH_KEY.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Scanning = Scanning;

const MATERIAL: [u8; 32] = [0x5a; 32];
const SALT: [u8; SALT_LEN] = [0xc3; SALT_LEN];

/// The data key Mizan derives from [`MATERIAL`] and [`SALT`], computed with ring.
#[inline(never)]
fn expected_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &SALT).extract(&MATERIAL);
    let okm = prk.expand(&[b"mizan/data-key/v1"], hkdf::HKDF_SHA256).unwrap();
    okm.fill(&mut key).unwrap();
    key
}

/// Overwrites the stack below the caller, as Mizan does after touching a key.
#[inline(never)]
fn scrub() {
    let mut scratch = MaybeUninit::<[u8; 32 * 1024]>::uninit();
    scratch.zeroize();
    std::hint::black_box(&scratch);
}

/// How many copies of the key lie in the 24 KB of stack below the caller.
#[inline(never)]
fn copies_below_the_stack_pointer(buffer: &mut [u8]) -> usize {
    let marker = 0u8;
    let top = std::hint::black_box(&marker) as *const u8 as u64;
    let mut mem = std::fs::File::open("/proc/self/mem").unwrap();
    mem.seek(SeekFrom::Start(top - buffer.len() as u64)).unwrap();
    mem.read_exact(buffer).unwrap();
    let pattern = PATTERN.get().unwrap();
    buffer.windows(32).filter(|w| w == pattern).count()
}

/// Derives and seals with ring alone, the way Mizan did before it scrubbed.
#[inline(never)]
fn seal_with_ring_alone() -> Vec<u8> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &SALT).extract(&MATERIAL);
    let okm = prk.expand(&[b"mizan/data-key/v1"], &CHACHA20_POLY1305).unwrap();
    let key = LessSafeKey::new(UnboundKey::from(okm));
    let mut sealed = b"a stored blob".to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key([1; 12]), Aad::from(b"ctx"), &mut sealed).unwrap();
    sealed
}

#[inline(never)]
fn derive_seal_and_open() -> usize {
    let key = Box::new(DataKey::derive(&MATERIAL, &SALT).unwrap());
    let sealed = key.seal(b"ctx", b"a stored blob").unwrap();
    assert_eq!(key.open(b"ctx", &sealed).as_deref(), Some(&b"a stored blob"[..]));
    drop(key);
    sealed.len()
}

#[test]
#[cfg(target_os = "linux")]
fn the_data_key_is_wiped_from_heap_and_stack() {
    let mut key = expected_key();
    PATTERN.set(key).unwrap();
    scrub();
    let mut buffer = vec![0u8; 24 * 1024];
    assert_eq!(copies_below_the_stack_pointer(&mut buffer), 0, "a clean start");

    // The checks see what ring alone leaves behind.
    let heap_key = Box::new(LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &key).unwrap()));
    ARMED.store(true, Ordering::SeqCst);
    drop(heap_key);
    ARMED.store(false, Ordering::SeqCst);
    assert_eq!(FREED_WITH_KEY.swap(0, Ordering::SeqCst), 1, "a ring key freed from the heap keeps its bytes");
    std::hint::black_box(seal_with_ring_alone());
    assert!(copies_below_the_stack_pointer(&mut buffer) > 0, "sealing with ring leaves copies of the key on the stack");
    scrub();
    assert_eq!(copies_below_the_stack_pointer(&mut buffer), 0);

    // Mizan leaves none.
    ARMED.store(true, Ordering::SeqCst);
    std::hint::black_box(derive_seal_and_open());
    ARMED.store(false, Ordering::SeqCst);
    assert_eq!(FREED_WITH_KEY.load(Ordering::SeqCst), 0, "no freed block held the data key");
    assert_eq!(copies_below_the_stack_pointer(&mut buffer), 0, "no copy of the data key below the caller");
    key.zeroize();
}
