//! A client's socket: TCP, or the Unix socket of `unixsocket` (local apps connect to
//! /run/redis/redis.sock and skip the TCP stack). The connection loop is written once against
//! this type; each call is one match, then the tokio socket's own method.

use std::io::{self, IoSlice};
use std::os::fd::{AsFd, BorrowedFd};

use bytes::BufMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::{TcpStream, UnixStream};

#[derive(Debug)]
pub enum ClientSocket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl ClientSocket {
    /// Waits for input and reads it into `buf`; 0 once the client has closed.
    pub async fn read_buf<B: BufMut>(&mut self, buf: &mut B) -> io::Result<usize> {
        match self {
            ClientSocket::Tcp(s) => s.read_buf(buf).await,
            ClientSocket::Unix(s) => s.read_buf(buf).await,
        }
    }

    /// Reads what has arrived without waiting (`WouldBlock` when nothing has).
    pub fn try_read_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        match self {
            ClientSocket::Tcp(s) => s.try_read_buf(buf),
            ClientSocket::Unix(s) => s.try_read_buf(buf),
        }
    }

    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            ClientSocket::Tcp(s) => s.write_all(buf).await,
            ClientSocket::Unix(s) => s.write_all(buf).await,
        }
    }

    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            ClientSocket::Tcp(s) => s.try_write(buf),
            ClientSocket::Unix(s) => s.try_write(buf),
        }
    }

    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            ClientSocket::Tcp(s) => s.try_write_vectored(bufs),
            ClientSocket::Unix(s) => s.try_write_vectored(bufs),
        }
    }

    /// Runs `f` (a system call of our own on the descriptor, `sendfile`) as the socket's
    /// readiness allows, clearing it when `f` would block.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        match self {
            ClientSocket::Tcp(s) => s.try_io(interest, f),
            ClientSocket::Unix(s) => s.try_io(interest, f),
        }
    }

    pub async fn writable(&self) -> io::Result<()> {
        match self {
            ClientSocket::Tcp(s) => s.writable().await,
            ClientSocket::Unix(s) => s.writable().await,
        }
    }

    pub async fn readable(&self) -> io::Result<()> {
        match self {
            ClientSocket::Tcp(s) => s.readable().await,
            ClientSocket::Unix(s) => s.readable().await,
        }
    }
}

impl AsFd for ClientSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            ClientSocket::Tcp(s) => s.as_fd(),
            ClientSocket::Unix(s) => s.as_fd(),
        }
    }
}
