echo common > /etc/fbs-marker
%include tail.sh
